// The load generator shared by bench/fanout.mjs (edgechat under `wrangler dev`) and
// bench/baseline-ws.mjs (a plain Node `ws` broadcast server): one room of N sockets, one of which
// sends `message.send` frames; every socket (the sender's too) receives `message.created`.
//
// A "target" tells the generator how to open socket i of a room of N and how to read the server's RSS:
//   { name, room(n) → Promise<{ open(i) → WebSocket }>, rss() → bytes|null, cpuMs() → ms|null }
// Socket 0 is the sender. Everything runs on loopback, bounded in count and time.
import { performance } from "node:perf_hooks";

/** Fixed-rate phase: 100 msg/s for 1,000 messages (10 s). */
export const FIXED = { rate: 100, messages: 1000 };
/** Max-rate phase: as fast as acks allow with WINDOW frames in flight, up to MAX_MESSAGES or MAX_SECONDS. */
export const MAX = {
	window: Number(process.env.WINDOW ?? 32),
	messages: Number(process.env.MAX_MESSAGES ?? 4000),
	seconds: Number(process.env.MAX_SECONDS ?? 15),
};
const CONNECT_CONCURRENCY = 10;
const CONNECT_TIMEOUT_MS = 15_000;
const DRAIN_TIMEOUT_MS = 5_000;

export function percentile(sorted, p) {
	if (sorted.length === 0) return null;
	const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
	return sorted[index];
}

const round = (x, digits = 2) => (x === null || x === undefined ? null : Number(x.toFixed(digits)));
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** Opens the N sockets of a room, CONNECT_CONCURRENCY at a time; resolves when each has had `ready`. */
async function connectAll(room, n) {
	const sockets = new Array(n);
	const connectMs = [];
	let next = 0;
	async function worker() {
		while (next < n) {
			const i = next++;
			sockets[i] = await connectOne(room, i, connectMs);
		}
	}
	await Promise.all(Array.from({ length: Math.min(CONNECT_CONCURRENCY, n) }, worker));
	connectMs.sort((a, b) => a - b);
	return { sockets, connectMs };
}

function connectOne(room, i, connectMs) {
	return new Promise((resolve, reject) => {
		const started = performance.now();
		const ws = room.open(i);
		const timer = setTimeout(() => {
			ws.terminate();
			reject(new Error(`socket ${i}: no ready within ${CONNECT_TIMEOUT_MS} ms`));
		}, CONNECT_TIMEOUT_MS);
		ws.once("error", (error) => {
			clearTimeout(timer);
			reject(error);
		});
		ws.once("unexpected-response", (_request, response) => {
			clearTimeout(timer);
			reject(new Error(`socket ${i}: HTTP ${response.statusCode}`));
		});
		ws.once("message", (data) => {
			clearTimeout(timer);
			const frame = JSON.parse(data.toString());
			if (frame.type !== "ready") return reject(new Error(`socket ${i}: first frame ${frame.type}`));
			connectMs.push(performance.now() - started);
			resolve(ws);
		});
	});
}

/**
 * One phase on an open room. Receivers record, per message of this phase (recognised by its clientId
 * prefix), the receipt time; the sender records the send time and the ack. Loss = acked seqs a socket
 * never received; duplicates = a seq received twice on one socket; reordered = a seq lower than the
 * last one received on that socket.
 */
async function runPhase(sockets, phase, tag) {
	const n = sockets.length;
	const sender = sockets[0];
	const prefix = `${tag}-`;
	const sentAt = []; // index → performance.now() at send
	const ackedSeq = []; // index → seq
	const latencies = [];
	const perSocket = sockets.map(() => ({ seen: new Set(), lastSeq: 0, dup: 0, reordered: 0 }));
	let deliveries = 0;
	let lastReceipt = 0;
	let acked = 0;
	let errors = 0;
	let firstError = null;
	let onAck = null;
	let onDelivery = null;

	const listeners = sockets.map((ws, s) => {
		const listener = (data) => {
			const now = performance.now();
			const text = data.toString();
			// Cheap pre-filter: only message.created and message.ack frames matter here.
			const frame = JSON.parse(text);
			// A busy room batches new messages into one `messages.created` frame: each counts alike.
			const created =
				frame.type === "message.created"
					? [frame.message]
					: frame.type === "messages.created"
						? frame.messages
						: null;
			if (created) {
				for (const m of created) {
					if (!m.clientId.startsWith(prefix)) continue;
					const index = Number(m.clientId.slice(prefix.length));
					const state = perSocket[s];
					if (state.seen.has(m.seq)) {
						state.dup++;
						continue;
					}
					if (m.seq < state.lastSeq) state.reordered++;
					state.lastSeq = m.seq;
					state.seen.add(m.seq);
					latencies.push(now - sentAt[index]);
					deliveries++;
					lastReceipt = now;
					onDelivery?.();
				}
			} else if (s === 0 && frame.type === "message.ack") {
				if (!frame.clientId.startsWith(prefix)) return;
				ackedSeq[Number(frame.clientId.slice(prefix.length))] = frame.seq;
				acked++;
				onAck?.();
			} else if (s === 0 && frame.type === "error") {
				errors++;
				firstError ??= frame;
				acked++; // an answered send: keep the window moving, count it as an error
				onAck?.();
			}
		};
		ws.on("message", listener);
		return listener;
	});

	// A socket that closes mid-phase (a dev-server reload, a crash) fails the phase instead of hanging it.
	let failClosed;
	const closed = new Promise((_, reject) => {
		failClosed = reject;
	});
	closed.catch(() => {});
	const closeListeners = sockets.map((ws, s) => {
		const listener = (code, reason) =>
			failClosed(new Error(`socket ${s} closed mid-phase: ${code} ${reason.toString()}`));
		ws.on("close", listener);
		return listener;
	});

	const send = (index) => {
		sentAt[index] = performance.now();
		sender.send(
			JSON.stringify({ type: "message.send", clientId: `${prefix}${index}`, text: `bench message ${index}` }),
		);
	};

	const started = performance.now();
	let sent = 0;
	if (phase.rate) {
		// Open loop: message i is due at started + i / rate; late timers send everything that is due.
		const interval = 1000 / phase.rate;
		while (sent < phase.messages) {
			const due = Math.min(phase.messages, Math.floor((performance.now() - started) / interval) + 1);
			while (sent < due) send(sent++);
			if (sent < phase.messages) await sleep(Math.max(0, started + sent * interval - performance.now()));
		}
		await Promise.race([
			closed,
			waitFor(
				() => acked >= sent,
				10_000,
				(cb) => (onAck = cb),
			),
		]);
	} else {
		// Closed loop: keep `window` sends in flight until the count or the time bound is reached.
		const deadline = started + phase.seconds * 1000;
		const pumped = new Promise((resolve) => {
			const pump = () => {
				while (sent < phase.messages && sent - acked < phase.window && performance.now() < deadline) {
					send(sent++);
				}
				if (acked >= sent && (sent >= phase.messages || performance.now() >= deadline)) resolve();
			};
			onAck = pump;
			pump();
			// If the deadline passes while nothing is acked, stop anyway.
			setTimeout(resolve, phase.seconds * 1000 + 10_000).unref();
		});
		await Promise.race([closed, pumped]);
	}
	const lastAck = performance.now();
	const expected = ackedSeq.filter((seq) => seq !== undefined).length * n;
	await Promise.race([
		closed,
		waitFor(
			() => deliveries >= expected,
			DRAIN_TIMEOUT_MS,
			(cb) => (onDelivery = cb),
		),
	]);
	onAck = null;
	onDelivery = null;
	sockets.forEach((ws, s) => {
		ws.off("message", listeners[s]);
		ws.off("close", closeListeners[s]);
	});

	let lost = 0;
	let dup = 0;
	let reordered = 0;
	for (const state of perSocket) {
		dup += state.dup;
		reordered += state.reordered;
		for (const seq of ackedSeq) if (seq !== undefined && !state.seen.has(seq)) lost++;
	}
	const ackedCount = ackedSeq.filter((seq) => seq !== undefined).length;
	latencies.sort((a, b) => a - b);
	const ackSeconds = (lastAck - started) / 1000;
	const deliverySeconds = ((lastReceipt || lastAck) - started) / 1000;
	return {
		sent,
		acked: ackedCount,
		errors,
		firstError: firstError ? `${firstError.code}: ${firstError.message}` : null,
		msgsPerSec: round(ackedCount / ackSeconds, 1),
		deliveries,
		deliveriesPerSec: round(deliveries / deliverySeconds, 0),
		latencyMs: {
			p50: round(percentile(latencies, 50)),
			p99: round(percentile(latencies, 99)),
			max: round(latencies.at(-1) ?? null),
		},
		lost,
		dup,
		reordered,
		seconds: round(ackSeconds, 2),
	};
}

function waitFor(done, timeoutMs, hook) {
	if (done()) return Promise.resolve(true);
	return new Promise((resolve) => {
		const timer = setTimeout(() => {
			hook(null);
			resolve(false);
		}, timeoutMs);
		hook(() => {
			if (!done()) return;
			clearTimeout(timer);
			hook(null);
			resolve(true);
		});
	});
}

/**
 * Waits until the server is idle (under 10 % of a core for a second, at most SETTLE_SECONDS): the
 * background work earlier phases left behind (outbox drains to inboxes and D1) would otherwise be
 * measured as the next phase's cost. Answers how long it waited.
 */
export async function settle(target) {
	const started = performance.now();
	const limit = Number(process.env.SETTLE_SECONDS ?? 60) * 1000;
	let previous = await target.cpuMs();
	if (previous === null) return 0;
	while (performance.now() - started < limit) {
		await sleep(1000);
		const now = await target.cpuMs();
		if (now === null || now - previous < 100) break;
		previous = now;
	}
	return Math.round(performance.now() - started);
}

/**
 * Runs both phases for each N on one target; calls `emit` with one result object per (N, phase).
 * N counts the sockets in the room, sender included: each message is delivered N times.
 */
export async function runTarget(target, { ns = [2, 10, 100], phases = ["fixed", "max"], emit }) {
	const results = [];
	for (const n of ns) {
		for (const phaseName of phases) {
			// A fresh room and fresh sockets per phase, so that phases do not depend on each other (an
			// object that hibernated between phases used to wake without the tenant's settings).
			const phase = phaseName === "fixed" ? { ...FIXED } : { ...MAX };
			const tag = `${phaseName}${n}x${Math.random().toString(36).slice(2, 8)}`;
			const settleMs = await settle(target);
			const rssBefore = await target.rss();
			let sockets = [];
			let connectMs = [];
			let measured;
			try {
				const room = await target.room(n);
				({ sockets, connectMs } = await connectAll(room, n));
				await sleep(300); // let presence frames and connection set-up settle
				const serverCpu = await target.cpuMs();
				const clientCpu = process.cpuUsage();
				measured = await runPhase(sockets, phase, tag);
				const serverMs = serverCpu === null ? null : (await target.cpuMs()) - serverCpu;
				const { user, system } = process.cpuUsage(clientCpu);
				// CPU per message: far less sensitive than throughput to other load on the machine.
				measured.cpuMsPerMessage = {
					server: serverMs === null ? null : round(serverMs / Math.max(1, measured.acked), 3),
					loadGenerator: round((user + system) / 1000 / Math.max(1, measured.acked), 3),
				};
			} catch (error) {
				// A failed phase (a socket closed, a dev-server reload) is reported; the next one goes on.
				const failed = { target: target.name, n, phase: phaseName, error: String(error?.message ?? error) };
				results.push(failed);
				emit?.(failed);
				for (const ws of sockets) ws?.terminate();
				await sleep(1000);
				continue;
			}
			const rssAfter = await target.rss();
			const result = {
				target: target.name,
				n,
				phase: phaseName,
				...(phaseName === "fixed"
					? { rate: phase.rate, messages: phase.messages }
					: { window: phase.window, maxMessages: phase.messages, maxSeconds: phase.seconds }),
				...measured,
				settleMs,
				connectMs: { p50: round(percentile(connectMs, 50)), p99: round(percentile(connectMs, 99)) },
				rssMiB: {
					before: rssBefore === null ? null : round(rssBefore / 2 ** 20, 1),
					after: rssAfter === null ? null : round(rssAfter / 2 ** 20, 1),
				},
			};
			results.push(result);
			emit?.(result);
			for (const ws of sockets) ws.close(1000, "bench done");
			await sleep(500);
		}
	}
	return results;
}
