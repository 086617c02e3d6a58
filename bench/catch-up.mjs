// Catch-up benchmark of issue 3 against a running `npm run dev` (BASE, default http://127.0.0.1:8787).
// A reader is a member of 10 group conversations and has none of them open, so every message becomes
// an entry in the reader's Inbox. Ten senders (one per conversation) send 1,000 messages in all at a
// fixed 100 msg/s over HTTP.
//
// - send-to-inbox lag: one device of the reader keeps the inbox socket open without acking; the lag
//   of a message is the time from the start of its POST to its `inbox.entry` push on that socket.
// - catch-up: that device goes away; a fresh device connects and we time from the start of the
//   upgrade until it holds every one of the 1,000 missed messages (pushed in one backlog). A backlog
//   over the socket's replay cap (1,000 entries) ends in `inbox.truncated {cursor}`, and the device
//   pages the rest with `GET /v1/inbox?after=cursor&limit=500`, as a client must: catch-up then ends
//   when the last page is in (`socketEntries` + `pagedEntries`). For comparison, the whole backlog
//   paged over HTTP alone (`GET /v1/inbox?limit=500`).
// Prints one JSON object. Figures, not assertions: see docs/benchmarks.md ("catch-up").
//
//   npm run dev                                   # in another terminal
//   npx node bench/catch-up.mjs                   # env: BASE, MESSAGES, CONVERSATIONS, RATE
//   MESSAGES=10000 CONVERSATIONS=100 npx node bench/catch-up.mjs   # issue 13's aim (100 s of sends at RATE=100)
import { randomBytes } from "node:crypto";
import { performance } from "node:perf_hooks";
import { fileURLToPath } from "node:url";
import WebSocket from "ws";
import { adminKey, devApi } from "./lib/dev-api.mjs";

const TIMEOUT_MS = 60_000;

function percentile(sorted, p) {
	if (sorted.length === 0) return null;
	return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}
const round = (x) => (x === null || x === undefined ? null : Number(x.toFixed(1)));
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

async function setUp(base, request, conversations) {
	const admin = adminKey();
	const suffix = randomBytes(4).toString("hex");
	const created = await request("POST", "/platform/v1/tenants", {
		auth: admin,
		body: { name: `catch-up ${suffix}` },
	});
	const tenantId = created.tenant.id;
	const hostname = `catchup-${suffix}.localhost`;
	await request("POST", `/platform/v1/tenants/${tenantId}/domains`, { auth: admin, body: { hostname } });
	await request("PATCH", `/platform/v1/tenants/${tenantId}`, {
		auth: admin,
		body: { settings: { sendRate: { perSecond: 100_000, burst: 100_000 } } },
	});
	const host = base.port ? `${hostname}:${base.port}` : hostname;
	const token = async (userId) =>
		(await request("POST", "/v1/tokens", { host, auth: created.apiKey, body: { userId, ttlSeconds: 3600 } }))
			.token;
	const reader = await token("reader");
	const senders = [];
	for (let i = 0; i < conversations; i++) {
		const auth = await token(`sender${i}`);
		const { conversation } = await request("POST", "/v1/conversations", {
			host,
			auth,
			body: { type: "group", title: `room ${i}`, memberIds: ["reader"] },
		});
		senders.push({ auth, conversationId: conversation.id });
	}
	return { host, reader, senders };
}

/**
 * An inbox socket of the reader; `onEntry` sees every `inbox.entry` frame, `onTruncated` the cursor
 * of an `inbox.truncated` (the backlog went over the socket's replay cap).
 */
function openInbox(base, host, token, onEntry, onTruncated = () => {}) {
	return new Promise((resolve, reject) => {
		const ws = new WebSocket(`ws://${base.hostname}:${base.port || 80}/v1/inbox/ws?token=${token}`, {
			headers: { Host: host },
		});
		const timer = setTimeout(() => reject(new Error("no ready on the inbox socket")), TIMEOUT_MS);
		ws.on("error", reject);
		ws.on("message", (data) => {
			const frame = JSON.parse(data.toString());
			if (frame.type === "ready") {
				clearTimeout(timer);
				resolve(ws);
			} else if (frame.type === "inbox.entry") onEntry(frame);
			else if (frame.type === "inbox.truncated") onTruncated(frame.cursor);
		});
	});
}

function waitFor(predicate, what) {
	const deadline = Date.now() + TIMEOUT_MS;
	return new Promise((resolve, reject) => {
		const tick = () => {
			if (predicate()) return resolve();
			if (Date.now() > deadline) return reject(new Error(`timed out waiting for ${what}`));
			setTimeout(tick, 2);
		};
		tick();
	});
}

/** Pages `GET /v1/inbox` from `after` to the end; `onPage` sees each page's entries. */
async function pageInbox(request, host, reader, after, onPage) {
	let cursor = after;
	for (;;) {
		const page = await request("GET", `/v1/inbox?after=${cursor}&limit=500`, { host, auth: reader });
		onPage(page.entries);
		if (page.nextCursor === null) return;
		cursor = page.nextCursor;
	}
}

export async function runCatchUp({
	base = new URL(process.env.BASE ?? "http://127.0.0.1:8787"),
	messages: MESSAGES = Number(process.env.MESSAGES ?? 1000),
	conversations: CONVERSATIONS = Number(process.env.CONVERSATIONS ?? 10),
	rate: RATE = Number(process.env.RATE ?? 100),
} = {}) {
	const { agent, request } = devApi(base, 32);
	try {
		const { host, reader, senders } = await setUp(base, request, CONVERSATIONS);

		// ── phase 1: the messages at a fixed rate while the reader has no conversation open ──────────
		const sentAt = new Map(); // clientId → performance.now() at the start of its POST
		const ackedAt = new Map(); // clientId → performance.now() when its 201 arrived
		const entryAt = new Map(); // clientId → performance.now() when its inbox.entry arrived
		const lags = [];
		const observed = new Set();
		const observer = await openInbox(base, host, reader, (frame) => {
			const start = sentAt.get(frame.message.clientId);
			if (start !== undefined && !observed.has(frame.message.clientId)) {
				observed.add(frame.message.clientId);
				const now = performance.now();
				lags.push(now - start);
				entryAt.set(frame.message.clientId, now);
			}
		});
		const sendMs = [];
		const sends = [];
		const expectedPer = new Map(); // conversationId → messages sent to it
		const t0 = performance.now();
		for (let i = 0; i < MESSAGES; i++) {
			const due = t0 + (i * 1000) / RATE;
			const wait = due - performance.now();
			if (wait > 0) await sleep(wait);
			const sender = senders[i % senders.length];
			expectedPer.set(sender.conversationId, (expectedPer.get(sender.conversationId) ?? 0) + 1);
			const clientId = `c${i}`;
			const started = performance.now();
			sentAt.set(clientId, started);
			sends.push(
				request("POST", `/v1/conversations/${sender.conversationId}/messages`, {
					host,
					auth: sender.auth,
					body: { clientId, text: `message ${i}` },
				}).then(() => {
					const now = performance.now();
					sendMs.push(now - started);
					ackedAt.set(clientId, now);
				}),
			);
		}
		await Promise.all(sends);
		const sendSeconds = (performance.now() - t0) / 1000;
		await waitFor(() => observed.size === MESSAGES, "every inbox entry on the observing device");
		observer.close();

		// ── phase 2: a fresh device reconnects and catches up ────────────────────────────────────────
		const held = new Map(); // conversationId → seqs in arrival order
		let count = 0;
		let socketEntries = 0;
		let truncatedAt = null;
		const hold = (entry) => {
			const seqs = held.get(entry.conversationId) ?? [];
			seqs.push(entry.message.seq);
			held.set(entry.conversationId, seqs);
			count++;
		};
		const connectStart = performance.now();
		const device = await openInbox(
			base,
			host,
			reader,
			(frame) => {
				socketEntries++;
				hold(frame);
			},
			(cursor) => {
				truncatedAt = cursor;
			},
		);
		const readyMs = performance.now() - connectStart;
		// The socket's backlog, then (when it said it was truncated) the rest over HTTP from its cursor.
		await waitFor(() => count >= MESSAGES || truncatedAt !== null, "the backlog on the reconnecting device");
		let pagedEntries = 0;
		let socketBacklogMs = null;
		if (truncatedAt !== null && count < MESSAGES) {
			socketBacklogMs = performance.now() - connectStart;
			await pageInbox(request, host, reader, truncatedAt, (entries) => {
				pagedEntries += entries.length;
				for (const entry of entries) hold(entry);
			});
		}
		await waitFor(() => count >= MESSAGES, "every missed message on the reconnecting device");
		const catchUpMs = performance.now() - connectStart;
		device.close();
		const complete =
			count === MESSAGES &&
			[...expectedPer].every(([conversationId, n]) => {
				const seqs = held.get(conversationId) ?? [];
				return seqs.length === n && seqs.every((seq, i) => seq === i + 1);
			});

		// The same backlog paged over HTTP alone, for comparison.
		const pageStart = performance.now();
		let paged = 0;
		await pageInbox(request, host, reader, 0, (entries) => {
			paged += entries.length;
		});
		const httpPagedMs = performance.now() - pageStart;

		lags.sort((a, b) => a - b);
		// From the 201 to the entry: the delivery pipeline alone, without the send's own queueing. An
		// entry can beat its 201 to the client, which counts as 0.
		const ackLags = [...entryAt]
			.map(([clientId, at]) => Math.max(0, at - ackedAt.get(clientId)))
			.sort((a, b) => a - b);
		sendMs.sort((a, b) => a - b);
		return {
			bench: "catch-up",
			base: base.origin,
			messages: MESSAGES,
			conversations: CONVERSATIONS,
			targetRate: RATE,
			achievedRate: round(MESSAGES / sendSeconds),
			sendMs: { p50: round(percentile(sendMs, 50)), p99: round(percentile(sendMs, 99)) },
			sendToInboxMs: {
				p50: round(percentile(lags, 50)),
				p99: round(percentile(lags, 99)),
				max: round(lags.at(-1)),
			},
			ackToInboxMs: { p50: round(percentile(ackLags, 50)), p99: round(percentile(ackLags, 99)) },
			catchUp: {
				readyMs: round(readyMs),
				allEntriesMs: round(catchUpMs),
				entries: count,
				socketEntries,
				truncatedAtCursor: truncatedAt,
				socketBacklogMs: round(socketBacklogMs),
				pagedEntries,
				completeAndInOrder: complete,
				httpPagedMs: round(httpPagedMs),
				httpPagedEntries: paged,
			},
		};
	} finally {
		agent.destroy();
	}
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
	console.log(JSON.stringify(await runCatchUp()));
}
