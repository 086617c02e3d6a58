// Chaos, black-box: a dev server on its own state is killed with SIGKILL (its whole process group:
// wrangler and workerd) twice while senders stream into a few group conversations, and started
// again on the same state each time. Senders behave as client/index.ts does (see
// e2e/lib/chaos-clients.mjs): socket senders resend every unacked message on `ready`, HTTP senders
// retry with the same clientId until answered. A reader per conversation resumes by seq (`?after=`)
// after each crash; one member never connects at all.
//
// Afterwards, what a user can observe: every acknowledged message is in history exactly once by
// (senderId, clientId), seqs 1..N without a gap; the offline member's inbox holds each message
// once and in seq order; search finds each message's unique word once the mirror has caught up;
// every resumed socket got exactly the rest, once and in order. Waits are polls with generous
// deadlines; nothing here asserts a timing. Volume: CHAOS_PER_SENDER (default 50) messages per
// sender per conversation.
import { rmSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { HttpSender, Reader, resilient, SocketSender } from "./lib/chaos-clients.mjs";
import { freePort, startServer, tempPersist } from "./lib/dev-process.mjs";
import { createTenant, expectStatus, messagesOf, openSocket, request } from "./lib/wire.mjs";

const CONVERSATIONS = 3;
const PER_SENDER = Number(process.env.CHAOS_PER_SENDER ?? 50);
const WINDOW = 3; // messages a sender has in flight at once
const SOCKET_SENDERS = ["ws-ann", "ws-bo"];
const HTTP_SENDERS = ["http-cy", "http-di"];
const READER = "reader-eve";
const OFFLINE = "offline-fay";
const KILLS = 2;
const OUTAGE_MS = 1_500;
const POLL_MS = 200;

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

const persist = tempPersist("edgechat-chaos-");
let port;
let base;
let server;
const serverLogs = [];

async function waitFor(what, check, timeoutMs) {
	const deadline = Date.now() + timeoutMs;
	for (;;) {
		const value = await check();
		if (value) return value;
		if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
		await sleep(POLL_MS);
	}
}

async function restart(ctx) {
	serverLogs.push(server.output());
	await server.kill("SIGKILL");
	ctx.kills++;
	await sleep(OUTAGE_MS);
	const started = Date.now();
	server = await startServer({ port, persist });
	ctx.restartMs.push(Date.now() - started);
}

beforeAll(async () => {
	port = await freePort(9100, 9199);
	base = `http://127.0.0.1:${port}`;
	server = await startServer({ port, persist });
}, 180_000);

afterAll(async () => {
	await server?.kill("SIGKILL");
	rmSync(persist, { recursive: true, force: true });
});

describe("chaos: the server is SIGKILLed twice mid-stream", () => {
	it("keeps every acknowledged message exactly once and in order, in history, inbox, search and resumes", async () => {
		const started = Date.now();
		const phases = {};
		const ctx = { base, words: new Map(), kills: 0, restartMs: [], perSender: PER_SENDER, window: WINDOW };
		ctx.tenant = await createTenant(base, {
			name: "chaos",
			settings: { sendRate: { perSecond: 100_000, burst: 100_000 } },
		});
		const users = [...SOCKET_SENDERS, ...HTTP_SENDERS, READER, OFFLINE];
		const tokens = Object.fromEntries(
			await Promise.all(users.map(async (u) => [u, await ctx.tenant.token(u)])),
		);
		const host = ctx.tenant.host;
		const as = (u) => ({ authorization: `Bearer ${tokens[u]}` });
		const conversations = [];
		for (let c = 0; c < CONVERSATIONS; c++) {
			const body = await expectStatus(
				request(base, {
					method: "POST",
					path: "/v1/conversations",
					host,
					headers: as(SOCKET_SENDERS[0]),
					body: { type: "group", title: `chaos ${c}`, memberIds: users.slice(1) },
				}),
				201,
				"create group",
			);
			conversations.push(body.conversation.id);
		}

		const readers = conversations.map((id) => new Reader(ctx, tokens[READER], id));
		await Promise.all(readers.map((r) => r.connect()));
		const senders = conversations.flatMap((id, c) => [
			...SOCKET_SENDERS.map((u) => new SocketSender(ctx, u, tokens[u], id, c)),
			...HTTP_SENDERS.map((u) => new HttpSender(ctx, u, tokens[u], id, c)),
		]);
		const total = senders.length * PER_SENDER;
		const acked = () => senders.reduce((n, s) => n + s.acks.size, 0);
		const ackedAtKill = [];

		// The monkey: SIGKILL at a third and at two thirds of the acks, each time with sends in flight.
		const monkey = (async () => {
			for (let k = 1; k <= KILLS; k++) {
				await waitFor(`${k}/${KILLS + 1} of the acks`, () => acked() >= (total * k) / (KILLS + 1), 120_000);
				ackedAtKill.push(acked());
				await restart(ctx);
			}
		})();
		const sendStarted = Date.now();
		await Promise.all([...senders.map((s) => s.run()), monkey]);
		phases.sendAndKillsMs = Date.now() - sendStarted;
		expect(senders.map((s) => s.failure).filter(Boolean)).toEqual([]);
		expect(acked()).toBe(total);

		// History: every ack is there once, seqs 1..N without a gap.
		const perConversation = [];
		for (const [c, id] of conversations.entries()) {
			const history = [];
			for (let after = 0; ; ) {
				const page = await expectStatus(
					request(base, {
						path: `/v1/conversations/${id}/messages?after=${after}&limit=200`,
						host,
						headers: as(READER),
					}),
					200,
					"history",
				);
				history.push(...page.messages);
				if (!page.hasMore || page.messages.length === 0) break;
				after = page.messages.at(-1).seq;
			}
			const ackedHere = new Map();
			for (const s of senders.filter((s) => s.conversationId === id))
				for (const [clientId, seq] of s.acks) ackedHere.set(`${s.userId}/${clientId}`, seq);
			const keys = history.map((m) => `${m.senderId}/${m.clientId}`);
			expect(history.map((m) => m.seq)).toEqual(Array.from({ length: history.length }, (_, i) => i + 1));
			expect(new Set(keys).size).toBe(keys.length);
			expect(history.length).toBe(ackedHere.size);
			const bySender = new Map(history.map((m) => [`${m.senderId}/${m.clientId}`, m.seq]));
			const mismatched = [...ackedHere].filter(([key, seq]) => bySender.get(key) !== seq);
			expect(mismatched).toEqual([]);
			perConversation.push({ c, id, n: history.length, history });
		}

		// Readers: each resumed session continued exactly where the last one stopped.
		await waitFor(
			"readers to catch up",
			() => readers.every((r, c) => r.lastSeq >= perConversation[c].n),
			60_000,
		);
		for (const r of readers) r.close();
		for (const [c, r] of readers.entries()) {
			expect(r.violations).toEqual([]);
			expect(r.seen.size).toBe(perConversation[c].n);
		}

		// A fresh resume from the middle gets exactly the rest, once and in order, and nothing after it.
		const resumes = [];
		for (const { id, n } of perConversation) {
			const after = Math.floor(n / 2);
			const got = [];
			let pong;
			const ponged = new Promise((resolve) => {
				pong = resolve;
			});
			const opened = await openSocket(
				base,
				`/v1/conversations/${id}/ws?after=${after}&token=${tokens[READER]}`,
				{
					host,
					onFrame: (text) => {
						const frame = JSON.parse(text);
						if (frame.type === "pong") pong();
						for (const m of messagesOf(frame)) got.push(m.seq);
					},
				},
			);
			expect(opened.first.type).toBe("ready");
			await waitFor("the resumed replay", () => got.length >= n - after, 30_000);
			// Not the runtime's exact ping spelling: the object answers it, after whatever it sent before.
			opened.ws.send(JSON.stringify({ type: "ping", probe: 1 }));
			await ponged;
			opened.ws.close(1000, "done");
			expect(got).toEqual(Array.from({ length: n - after }, (_, i) => after + 1 + i));
			resumes.push({ after, replayed: got.length });
		}

		// Mirror, then search: each message's unique word finds exactly that message.
		const mirrorStarted = Date.now();
		const adminAuth = { authorization: `Bearer ${ctx.tenant.apiKey}` };
		const mirrorStats = {};
		for (const { id, n } of perConversation) {
			await waitFor(
				`the mirror of ${id}`,
				async () => {
					const { body } = await resilient(base, mirrorStats, {
						path: `/v1/admin/conversations/${id}/mirror`,
						host,
						headers: adminAuth,
					});
					return body?.mirror?.pendingMessages === 0 && body.mirror.mirroredSeq === n;
				},
				90_000,
			);
		}
		phases.mirrorCatchUpMs = Date.now() - mirrorStarted;
		const searchStarted = Date.now();
		const searchMisses = [];
		const queue = perConversation.flatMap(({ id, history }) => history.map((m) => ({ id, m })));
		let searched = 0;
		await Promise.all(
			Array.from({ length: 6 }, async () => {
				for (let job = queue.pop(); job; job = queue.pop()) {
					const word = ctx.words.get(`${job.m.senderId}/${job.m.clientId}`);
					const body = await expectStatus(
						request(base, { path: `/v1/search?q=${word}&limit=50`, host, headers: as(OFFLINE) }),
						200,
						"search",
					);
					searched++;
					const hits = body.messages.map((m) => `${m.conversationId}#${m.seq}`);
					if (hits.length !== 1 || hits[0] !== `${job.id}#${job.m.seq}`)
						searchMisses.push({ word, expected: `${job.id}#${job.m.seq}`, hits });
				}
			}),
		);
		phases.searchMs = Date.now() - searchStarted;
		expect(searchMisses).toEqual([]);

		// The offline member's inbox: every message once, in seq order per conversation.
		const inboxStarted = Date.now();
		const readInbox = async () => {
			const entries = [];
			for (let after = 0; ; ) {
				const page = await expectStatus(
					request(base, { path: `/v1/inbox?after=${after}&limit=500`, host, headers: as(OFFLINE) }),
					200,
					"inbox",
				);
				entries.push(...page.entries);
				if (page.nextCursor === null || page.entries.length === 0) break;
				after = page.nextCursor;
			}
			return entries;
		};
		await waitFor(
			"the offline inbox to hold every message",
			async () => {
				const entries = await readInbox();
				return perConversation.every(
					({ id, n }) =>
						new Set(entries.filter((e) => e.conversationId === id).map((e) => e.message.seq)).size === n,
				);
			},
			90_000,
		);
		phases.inboxMs = Date.now() - inboxStarted;
		const inbox = await readInbox();
		const cursors = inbox.map((e) => e.cursor);
		expect(cursors).toEqual([...cursors].sort((a, b) => a - b));
		expect(new Set(cursors).size).toBe(cursors.length);
		for (const { id, n } of perConversation) {
			const seqs = inbox.filter((e) => e.conversationId === id).map((e) => e.message.seq);
			expect(seqs).toEqual(Array.from({ length: n }, (_, i) => i + 1));
		}

		const logs = [...serverLogs, server.output()].join("\n");
		const sum = (key) => senders.reduce((n, s) => n + (s.stats[key] ?? 0), 0);
		const summary = {
			conversations: perConversation.map(({ id, n }) => ({ id, messages: n })),
			acked: acked(),
			kills: ctx.kills,
			ackedAtKill,
			restartMs: ctx.restartMs,
			socketSenders: {
				connects: sum("connects"),
				transmissions: sum("transmissions"),
				duplicateAcks: sum("duplicateAcks"),
			},
			httpSenders: {
				posts: sum("posts"),
				duplicateAnswers: sum("duplicateAnswers"),
				networkErrors: sum("networkErrors"),
				http5xx: sum("http5xx"),
			},
			readers: readers.map((r) => ({ sessions: r.sessions.map((s) => `after=${s.after}:+${s.received}`) })),
			resumes,
			inboxEntries: inbox.length,
			searched,
			serverUnhandledErrors: (logs.match(/unhandled error|Uncaught/g) ?? []).length,
			phases,
			totalMs: Date.now() - started,
		};
		console.log(`chaos summary\n${JSON.stringify(summary, null, 2)}`);
	}, 300_000);
});
