// The many-rooms load generator of issue 13, shared by bench/rooms.mjs and bench/idle.mjs (edgechat)
// and bench/baseline-chat-demo.mjs (Cloudflare's workers-chat-demo): R rooms of M members, every
// member with one socket on its room; an open-loop total rate spread over the rooms, each message from
// a random member of a random room.
//
// A target adapts a server's protocol:
//   { name, hasAck,
//     createRooms(r, m) → rooms [{ id, members: [...] }],
//     open(room, m) → WebSocket, ready(ws, room, m) → Promise (resolves once the socket is usable),
//     encode(key) → frame text of a message whose identity is `key`,
//     decode(text) → { created?: [{ key, seq }], ack?: { key, seq }, error?: { key | null, code } },
//     history(room) → Map key → seq of what the server has stored (null: cannot tell),
//     rss() → bytes | null, cpuMs() → ms | null }
// `seq` orders a room's messages (edgechat's seq; the demo's timestamp). Without acks (`hasAck:
// false`) the sender's own copy of the broadcast answers its send.
import { performance } from "node:perf_hooks";
import { percentile } from "./load.mjs";

export const round = (x, digits = 2) => (x === null || x === undefined ? null : Number(x.toFixed(digits)));
export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
export const mib = (bytes) => (bytes === null || bytes === undefined ? null : round(bytes / 2 ** 20, 1));

/** p50 / p99 / max of an array of ms (sorted in place). */
export function summary(values) {
	values.sort((a, b) => a - b);
	return {
		n: values.length,
		p50: round(percentile(values, 50)),
		p99: round(percentile(values, 99)),
		max: round(values.at(-1) ?? null),
	};
}

/** A small seeded PRNG (mulberry32), so that a run's sequence of rooms and senders can be repeated. */
export function random(seed = Number(process.env.SEED ?? 13)) {
	let a = seed >>> 0;
	return () => {
		a = (a + 0x6d2b79f5) >>> 0;
		let t = a;
		t = Math.imul(t ^ (t >>> 15), t | 1);
		t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
		return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
	};
}

/** Runs `task(i)` for i < n, `concurrency` at a time. */
export async function pool(n, concurrency, task) {
	let next = 0;
	async function worker() {
		while (next < n) await task(next++);
	}
	await Promise.all(Array.from({ length: Math.min(concurrency, n) }, worker));
}

/**
 * Opens every member's socket, `concurrency` at a time. Each socket gets one message listener that
 * hands frames to whatever phase is running (`room.onFrame`), and one close listener that counts
 * closes nobody asked for (a hibernation must not close sockets). Answers the connected rooms and
 * the connect figures: per socket from `new WebSocket` to ready, and the wall time for all.
 */
export async function connectRooms(target, rooms, { concurrency = 16, timeoutMs = 30_000 } = {}) {
	const state = {
		rooms: rooms.map((room) => ({ ...room, sockets: new Array(room.members.length) })),
		onFrame: null,
		closed: [],
		closing: false,
	};
	const jobs = state.rooms.flatMap((room, r) => room.members.map((_, m) => [r, m]));
	const connectMs = [];
	const failures = [];
	const started = performance.now();
	await pool(jobs.length, concurrency, async (j) => {
		const [r, m] = jobs[j];
		const room = state.rooms[r];
		const t0 = performance.now();
		try {
			const ws = target.open(room, m);
			const timer = setTimeout(() => ws.terminate(), timeoutMs);
			ws.once("unexpected-response", (_req, res) => ws.emit("error", new Error(`HTTP ${res.statusCode}`)));
			await target.ready(ws, room, m);
			clearTimeout(timer);
			connectMs.push(performance.now() - t0);
			room.sockets[m] = ws;
			ws.on("message", (data) => state.onFrame?.(r, m, data, performance.now()));
			ws.on("close", (code, reason) => {
				if (!state.closing)
					state.closed.push({ room: r, member: m, code, reason: String(reason), at: performance.now() });
			});
		} catch (error) {
			failures.push(`room ${r} member ${m}: ${error?.message ?? error}`);
		}
	});
	const totalMs = performance.now() - started;
	return {
		state,
		connect: {
			sockets: connectMs.length,
			failed: failures.length,
			firstFailure: failures[0] ?? null,
			...summary(connectMs),
			totalMs: round(totalMs, 0),
			perSecond: round(connectMs.length / (totalMs / 1000), 1),
		},
	};
}

export function closeRooms(state) {
	state.closing = true;
	for (const room of state.rooms) for (const ws of room.sockets) ws?.close(1000, "bench done");
}

/**
 * One open-loop phase: `rate` messages a second for `seconds`, each from a random member of a random
 * room, uniformly. Stops sending early once a send has waited more than `maxBehindSeconds` for its
 * answer (the server fell behind), and says when. Latency is measured from the send to each *other*
 * member's socket; `allMembersMs` is the time until the last member of the room had it.
 */
export async function runRoomPhase(
	target,
	state,
	{ rate, seconds, tag, maxBehindSeconds = 10, drainMs = 5000 },
) {
	const rand = random();
	const rooms = state.rooms.filter((room) => room.sockets.every(Boolean));
	if (rooms.length === 0) throw new Error("no room has all its sockets open");
	const messages = []; // index → { i, r, member, size, sentAt, answeredAt, seq, seqSeen, got, lastAt }
	const perSocket = new Map(); // `${r}:${m}` → { seen: Map index → seq, lastSeq }
	const latencies = [];
	const allLatencies = [];
	let answered = 0;
	let errors = 0;
	let unattributedErrors = 0; // error frames that name no message (the chat demo's rate limit)
	let firstError = null;
	let dup = 0;
	let reordered = 0;
	let wrongRoom = 0;
	let deliveries = 0;
	let expected = 0;
	const prefix = `${tag}-`;
	const indexOf = (key) =>
		typeof key === "string" && key.startsWith(prefix) ? Number(key.slice(prefix.length)) : -1;
	const roomIndex = new Map(rooms.map((room) => [room, state.rooms.indexOf(room)]));
	const answer = (msg, at, seq) => {
		if (msg.answeredAt !== undefined) return;
		msg.answeredAt = at;
		if (seq !== undefined) msg.seq = seq;
		answered++;
		expected += msg.size;
	};

	state.onFrame = (r, m, data, now) => {
		const frame = target.decode(data.toString());
		if (!frame) return;
		for (const { key, seq } of frame.created ?? []) {
			const i = indexOf(key);
			const msg = messages[i];
			if (!msg) continue; // another phase's message, or not a benchmark message
			if (r !== msg.r) {
				wrongRoom++;
				continue;
			}
			const id = `${r}:${m}`;
			let sock = perSocket.get(id);
			if (!sock) {
				sock = { seen: new Map(), lastSeq: -Infinity };
				perSocket.set(id, sock);
			}
			if (sock.seen.has(i)) {
				dup++;
				continue;
			}
			if (seq < sock.lastSeq) reordered++;
			sock.lastSeq = seq;
			sock.seen.set(i, seq);
			msg.seqSeen ??= seq;
			deliveries++;
			msg.got.add(m);
			if (msg.got.size === msg.size) {
				msg.lastAt = now;
				allLatencies.push(now - msg.sentAt);
			}
			if (m === msg.member) {
				if (!target.hasAck) answer(msg, now, seq);
				continue;
			}
			latencies.push(now - msg.sentAt);
		}
		if (frame.ack) {
			const msg = messages[indexOf(frame.ack.key)];
			if (msg) answer(msg, now, frame.ack.seq);
		}
		if (frame.error) {
			if (frame.error.key === null) {
				unattributedErrors++;
				firstError ??= frame.error.code;
			}
			const msg = messages[indexOf(frame.error.key)];
			if (msg && msg.answeredAt === undefined) {
				msg.answeredAt = now;
				msg.error = frame.error.code;
				answered++;
				errors++;
				firstError ??= frame.error.code;
			}
		}
	};

	const serverCpu0 = await target.cpuMs();
	const clientCpu0 = process.cpuUsage();
	const rss0 = await target.rss();
	const total = Math.round(rate * seconds);
	const interval = 1000 / rate;
	const started = performance.now();
	let sent = 0;
	let oldest = 0; // the first send not answered yet
	let stoppedBehindAt = null;
	while (sent < total) {
		const due = Math.min(total, Math.floor((performance.now() - started) / interval) + 1);
		while (sent < due) {
			const room = rooms[Math.floor(rand() * rooms.length)];
			const member = Math.floor(rand() * room.members.length);
			const i = sent++;
			messages[i] = {
				i,
				r: roomIndex.get(room),
				member,
				size: room.members.length,
				sentAt: performance.now(),
				got: new Set(),
			};
			room.sockets[member].send(target.encode(`${prefix}${i}`));
		}
		while (oldest < sent && messages[oldest].answeredAt !== undefined) oldest++;
		if (oldest < sent && performance.now() - messages[oldest].sentAt > maxBehindSeconds * 1000) {
			stoppedBehindAt = round((performance.now() - started) / 1000, 1);
			break;
		}
		if (sent < total) await sleep(Math.max(0, started + sent * interval - performance.now()));
	}
	const sendEnd = performance.now();
	// Every send answered (or 10 s), then every delivery of the answered ones (or drainMs).
	const waitUntil = async (done, ms) => {
		const deadline = performance.now() + ms;
		while (!done() && performance.now() < deadline) await sleep(5);
	};
	await waitUntil(() => answered >= sent, 10_000);
	const lastAnswer = messages.reduce((last, m) => Math.max(last, m.answeredAt ?? 0), started);
	await waitUntil(() => deliveries >= expected, drainMs);
	state.onFrame = null;
	const serverCpu1 = await target.cpuMs();
	const client = process.cpuUsage(clientCpu0);
	const rss1 = await target.rss();

	let lostDeliveries = 0;
	let messagesWithLoss = 0;
	let unanswered = 0;
	const ok = messages.filter((msg) => msg.answeredAt !== undefined && !msg.error);
	for (const msg of messages) if (msg.answeredAt === undefined) unanswered++;
	let ackSeqMismatch = 0;
	for (const msg of ok) {
		if (target.hasAck && msg.seqSeen !== undefined && msg.seq !== msg.seqSeen) ackSeqMismatch++;
		const missing = msg.size - msg.got.size;
		if (missing > 0) {
			lostDeliveries += missing;
			messagesWithLoss++;
		}
	}
	// Per second of the phase: [sends, of which answered, p99 ms until every member had them].
	const perSecond = [];
	for (const msg of messages) {
		const s = Math.floor((msg.sentAt - started) / 1000);
		perSecond[s] ??= { sent: 0, answered: 0, lat: [] };
		perSecond[s].sent++;
		if (msg.answeredAt !== undefined) perSecond[s].answered++;
		if (msg.lastAt !== undefined) perSecond[s].lat.push(msg.lastAt - msg.sentAt);
	}
	const timeline = Array.from(perSecond, (t) =>
		t ? [t.sent, t.answered, round(summary(t.lat).p99, 0)] : [0, 0, null],
	);
	const answeredSeconds = (lastAnswer - started) / 1000;
	return {
		rate,
		seconds,
		rooms: rooms.length,
		members: rooms[0].members.length,
		sent,
		sendRate: round(sent / ((sendEnd - started) / 1000), 1),
		answered: ok.length,
		achievedRate: round(ok.length / Math.max(answeredSeconds, (sendEnd - started) / 1000), 1),
		stoppedBehindAt,
		errors,
		unattributedErrors,
		firstError,
		unanswered,
		latencyMs: summary(latencies),
		allMembersMs: summary(allLatencies),
		deliveries,
		lostDeliveries,
		messagesWithLoss,
		dup,
		reordered,
		wrongRoom,
		ackSeqMismatch,
		cpuMsPerMessage: {
			server:
				serverCpu0 === null || serverCpu1 === null
					? null
					: round((serverCpu1 - serverCpu0) / Math.max(1, ok.length), 3),
			loadGenerator: round((client.user + client.system) / 1000 / Math.max(1, ok.length), 3),
		},
		serverCpuPercent:
			serverCpu0 === null || serverCpu1 === null
				? null
				: round(((serverCpu1 - serverCpu0) / (performance.now() - started)) * 100, 0),
		rssMiB: { before: mib(rss0), after: mib(rss1) },
		timeline,
		// What the history check needs: every answered message's room and the seq its broadcast carried.
		broadcast: ok.map((msg) => ({ key: `${prefix}${msg.i}`, r: msg.r, seq: msg.seqSeen ?? msg.seq })),
	};
}

/**
 * The stored-before-broadcast check, done after the fact: for a sample of rooms, every message that
 * was broadcast (and answered) must be in the room's history with the seq its broadcast carried.
 */
export async function checkHistory(target, state, broadcast, sampleRooms = 20) {
	const byRoom = new Map();
	for (const b of broadcast) {
		const list = byRoom.get(b.r) ?? [];
		list.push(b);
		byRoom.set(b.r, list);
	}
	const sample = [...byRoom.keys()].sort((a, b) => a - b);
	const rand = random(7);
	while (sample.length > sampleRooms) sample.splice(Math.floor(rand() * sample.length), 1);
	let checked = 0;
	let missing = 0;
	let seqMismatch = 0;
	let unknownStore = false;
	for (const r of sample) {
		const stored = await target.history(state.rooms[r]);
		if (stored === null) {
			unknownStore = true;
			break;
		}
		for (const b of byRoom.get(r)) {
			checked++;
			if (!stored.has(b.key)) missing++;
			else if (stored.get(b.key) !== b.seq) seqMismatch++;
		}
	}
	return unknownStore ? { checked: null } : { rooms: sample.length, checked, missing, seqMismatch };
}
