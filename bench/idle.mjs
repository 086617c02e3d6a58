// Idle sockets and hibernation (issue 13): ROOMS × MEMBERS idle conversation sockets (default 1,000 ×
// 10 = 10,000), the server's memory with them open, and evidence that the room objects hibernate,
// observed from outside (src/ is not changed):
//
// 1. Constructor logpoints (bench/lib/inspector.mjs, on by default, INSPECT=0 turns them off): the
//    V8 inspector of the user worker reports every construction of a Conversation or Inbox object with
//    its name (`<tenant>:<conversation>`). A room that was evicted while its sockets stayed open
//    (hibernation) is constructed again by its next message.
// 2. Probes after growing idle gaps: for each gap in GAPS (seconds), PROBE_ROOMS rooms that were
//    touched at the start of the idle period get one message after that gap. Per gap: whether the
//    room's constructor ran again before its broadcast (1.), the wake-up latency (send → each other
//    member's socket) against a warm message sent right after it, which bounds how long after the last
//    activity the runtime evicts an idle room (workerd's local runtime: 10 s after its last event
//    finished).
// 3. The sockets stay open through it: a close nobody asked for is counted; PING_SOCKETS sockets of
//    other rooms send the runtime-answered `{"type":"ping"}` once the rooms are asleep, and the
//    pongs must come without any constructor running (the auto-response does not wake the object).
// 4. Memory: RSS of both workerd processes and the user worker's V8 heap (after a forced GC) before
//    the rooms, after connecting, after IDLE_SECONDS (every room asleep but the probes), and once
//    AWAKE_ROOMS sleeping rooms have been woken at once by one message each (their members' inbox
//    objects wake too, through the rooms' outboxes): per sleeping room and socket, per awake room.
//    Only a fresh server (FRESH=1) gives a clean "before": RSS seldom shrinks once allocated.
//
// The direct proof needs a server hook; docs/benchmarks.md ("idle sockets") says which.
//
//   npm run dev            # another terminal; or FRESH=1 to start a fresh one on BASE's port
//   npx node bench/idle.mjs   # env: BASE ROOMS MEMBERS IDLE_SECONDS GAPS PROBE_ROOMS PING_SOCKETS
//                             #      AWAKE_ROOMS CONNECT_CONCURRENCY USER_POOL DIRECT INSPECT FRESH
import { performance } from "node:perf_hooks";
import { fileURLToPath } from "node:url";
import { watchConstructors } from "./lib/inspector.mjs";
import { settle } from "./lib/load.mjs";
import { closeRooms, connectRooms, mib, round, sleep, summary } from "./lib/room-load.mjs";
import { discoverUserWorker, pokeWorker } from "./lib/workerd.mjs";
import { edgechatRoomsTarget, maybeFresh, progress } from "./rooms.mjs";

const env = (name, fallback) => process.env[name] ?? fallback;

/** Sends one message from member 0 of `room`; resolves with each other member's latency (ms). */
function probe(target, state, r, key, timeoutMs = 30_000) {
	const room = state.rooms[r];
	return new Promise((resolve) => {
		const got = new Map();
		const started = performance.now();
		const listeners = room.sockets.map((ws, m) => {
			const listener = (data) => {
				const frame = target.decode(data.toString());
				if (frame?.created?.some((c) => c.key === key) && !got.has(m))
					got.set(m, performance.now() - started);
				if (got.size === room.sockets.length) done();
			};
			ws.on("message", listener);
			return listener;
		});
		const timer = setTimeout(() => done(), timeoutMs);
		function done() {
			clearTimeout(timer);
			room.sockets.forEach((ws, m) => {
				ws.off("message", listeners[m]);
			});
			resolve({ started, latencies: [...got].filter(([m]) => m !== 0).map(([, ms]) => ms), got: got.size });
		}
		room.sockets[0].send(target.encode(key));
	});
}

/** Sends the runtime's auto-answered ping on each socket; resolves with the pong round trips (ms). */
function pingAll(sockets, timeoutMs = 10_000) {
	return Promise.all(
		sockets.map(
			(ws) =>
				new Promise((resolve) => {
					const started = performance.now();
					const timer = setTimeout(() => finish(null), timeoutMs);
					const listener = (data) => {
						if (data.toString() === '{"type":"pong"}') finish(performance.now() - started);
					};
					function finish(ms) {
						clearTimeout(timer);
						ws.off("message", listener);
						resolve(ms);
					}
					ws.on("message", listener);
					ws.send('{"type":"ping"}');
				}),
		),
	);
}

export async function runIdle({
	base = new URL(env("BASE", "http://127.0.0.1:8787")),
	rooms: roomCount = Number(env("ROOMS", 1000)),
	members = Number(env("MEMBERS", 10)),
	idleSeconds = Number(env("IDLE_SECONDS", 30)),
	gaps = env("GAPS", "3,6,9,12,15,20,30").split(",").map(Number),
	probeRooms = Number(env("PROBE_ROOMS", 3)),
	pingSockets = Number(env("PING_SOCKETS", 100)),
	awakeRooms = Number(env("AWAKE_ROOMS", 100)),
	connectConcurrency = Number(env("CONNECT_CONCURRENCY", 32)),
	userPool = Number(env("USER_POOL", 0)),
	direct = env("DIRECT", "0") === "1",
	inspect = env("INSPECT", "1") === "1",
	emit = (result) => console.log(JSON.stringify(result)),
} = {}) {
	const port = Number(base.port || 80);
	const results = [];
	const out = (result) => {
		results.push(result);
		emit(result);
	};
	const probeCount = gaps.length * probeRooms;
	if (probeCount >= roomCount)
		throw new Error(`ROOMS (${roomCount}) must exceed GAPS × PROBE_ROOMS (${probeCount})`);
	const target = await edgechatRoomsTarget(base, { direct, userPool, prefix: "idle" });
	let watcher = null;
	if (inspect) {
		const { inspectorUrl } = await discoverUserWorker(port);
		if (inspectorUrl) {
			watcher = await watchConstructors(inspectorUrl, ["Conversation", "Inbox"], {
				poke: () => pokeWorker(port),
			});
		} else console.error("the user worker's inspector was not found: no constructor evidence in this run");
	}
	const heap = async () => (watcher ? mib(await watcher.heapUsed()) : null);
	let state = null;
	try {
		await settle(target);
		const rss0 = await target.rss();
		const heap0 = await heap();
		progress(`creating ${roomCount} rooms of ${members}`);
		const roomList = await target.createRooms(roomCount, members);
		progress(`connecting ${roomCount * members} sockets`);
		const connected = await connectRooms(target, roomList, { concurrency: connectConcurrency });
		state = connected.state;
		const rss1 = await target.rss();
		const heap1 = await heap();
		out({
			bench: "idle",
			step: "connected",
			rooms: roomCount,
			members,
			sockets: roomCount * members,
			direct,
			connect: connected.connect,
			rssMiB: { beforeRooms: mib(rss0), connected: mib(rss1) },
			heapMiB: { beforeRooms: heap0, connected: heap1 },
		});

		// Touch the probe rooms (two messages each: the second one's latency is a warm message's), then
		// let everything idle. The probe rooms are the first ones; the ping sockets come from the rest.
		const ofRoom = (r) => `${target.tenant.tenantId}:${state.rooms[r].id}`;
		// All probe rooms at once, so that their idle periods start together.
		const touches = await Promise.all(
			Array.from({ length: probeCount }, async (_, r) => {
				await probe(target, state, r, `touch-${r}-a`);
				const second = await probe(target, state, r, `touch-${r}-b`);
				return { latencies: second.latencies, at: second.started + Math.max(0, ...second.latencies) };
			}),
		);
		const warm = touches.flatMap((t) => t.latencies);
		const idleFrom = Math.max(...touches.map((t) => t.at));
		const mark = watcher?.events.length ?? 0;
		progress(`idle; probes after ${gaps.join(", ")} s`);

		const rssTimeline = [];
		const sampler = setInterval(() => void target.rss().then((rss) => rssTimeline.push(mib(rss))), 1000);
		const pingAt = Math.min(...gaps.filter((g) => g >= 12), idleSeconds);
		const pingTargets = state.rooms
			.slice(probeCount)
			.flatMap((room) => room.sockets)
			.filter((_, i) => i % 7 === 0)
			.slice(0, pingSockets);
		let pings = null;
		const probes = [];
		const schedule = [...gaps.map((gap, g) => ({ at: gap, g })), { at: pingAt, ping: true }].sort(
			(a, b) => a.at - b.at,
		);
		for (const step of schedule) {
			const wait = idleFrom + step.at * 1000 - performance.now();
			if (wait > 0) await sleep(wait);
			if (step.ping) {
				const before = watcher?.events.length ?? 0;
				const rtts = await pingAll(pingTargets);
				pings = {
					afterSeconds: step.at,
					sockets: pingTargets.length,
					answered: rtts.filter((x) => x !== null).length,
					rttMs: summary(rtts.filter((x) => x !== null)),
					constructedMeanwhile: watcher ? watcher.events.length - before : null,
				};
				continue;
			}
			const rooms = Array.from({ length: probeRooms }, (_, k) => step.g * probeRooms + k);
			const results = await Promise.all(
				rooms.map(async (r) => {
					const before = watcher?.events.length ?? 0;
					const woke = await probe(target, state, r, `wake-${r}`);
					woke.idleMs = woke.started - touches[r].at;
					const woken = watcher
						? watcher.events
								.slice(before)
								.filter((e) => e.className === "Conversation" && e.name === ofRoom(r))
						: null;
					const after = await probe(target, state, r, `warm-${r}`);
					return { woke, after, constructed: woken === null ? null : woken.length > 0 };
				}),
			);
			const wakeMs = results.flatMap((x) => x.woke.latencies);
			const warmMs = results.flatMap((x) => x.after.latencies);
			const idle = results.map((x) => x.woke.idleMs / 1000);
			probes.push({
				idleSeconds: step.at,
				actualIdleSeconds: [round(Math.min(...idle), 1), round(Math.max(...idle), 1)],
				rooms: rooms.length,
				constructedAgain: watcher ? results.filter((x) => x.constructed).length : null,
				wakeMs: summary(wakeMs),
				warmAfterMs: summary(warmMs),
				delivered: results.reduce((n, x) => n + x.woke.got, 0),
			});
		}
		const rest = idleFrom + idleSeconds * 1000 - performance.now();
		if (rest > 0) await sleep(rest);
		clearInterval(sampler);
		const rss2 = await target.rss();
		const heap2 = await heap();
		const idleEvents = watcher ? watcher.events.slice(mark) : [];
		// Wake AWAKE_ROOMS sleeping rooms at once, let their outbox drains run, and measure again: all
		// within a few seconds, well before the runtime could evict them again.
		const awake = Array.from(
			{ length: Math.min(awakeRooms, roomCount - probeCount) },
			(_, k) => probeCount + k,
		);
		const beforeWake = watcher?.events.length ?? 0;
		const woken = await Promise.all(awake.map((r) => probe(target, state, r, `awake-${r}`)));
		await sleep(2000);
		const rss3 = await target.rss();
		const heap3 = await heap();
		const wakeEvents = watcher ? watcher.events.slice(beforeWake) : [];
		// Constructions during the idle period that no probe caused (a probe wakes its room and, through
		// the room's outbox, its members' inboxes).
		const probeNames = new Set(Array.from({ length: probeCount }, (_, r) => ofRoom(r)));
		const unexpected = idleEvents.filter((e) => e.className === "Conversation" && !probeNames.has(e.name));
		const sockets = roomCount * members;
		const perRoomKiB = (a, b) => (a === null || b === null ? null : round((a - b) / 1024 / roomCount, 1));
		out({
			bench: "idle",
			step: "idle",
			idleSeconds,
			closedSockets: state.closed.length,
			firstClose: state.closed[0] ?? null,
			warmMs: summary(warm),
			probes,
			pings,
			constructedDuringIdle: watcher
				? {
						conversationsByProbes:
							idleEvents.filter((e) => e.className === "Conversation").length - unexpected.length,
						conversationsOther: unexpected.length,
						inboxes: idleEvents.filter((e) => e.className === "Inbox").length,
					}
				: null,
			wokenAtOnce: {
				rooms: awake.length,
				wakeMs: summary(woken.flatMap((w) => w.latencies)),
				delivered: woken.reduce((n, w) => n + w.got, 0),
				constructed: watcher
					? {
							conversations: wakeEvents.filter((e) => e.className === "Conversation").length,
							inboxes: wakeEvents.filter((e) => e.className === "Inbox").length,
						}
					: null,
			},
			rssMiB: {
				beforeRooms: mib(rss0),
				connected: mib(rss1),
				asleep: mib(rss2),
				afterWaking: mib(rss3),
				timeline: rssTimeline,
			},
			heapMiB: { beforeRooms: heap0, connected: heap1, asleep: heap2, afterWaking: heap3 },
			perRoom: {
				rssKiBAsleep: perRoomKiB(rss2, rss0),
				rssKiBPerSocketAsleep: rss2 === null ? null : round((rss2 - rss0) / 1024 / sockets, 2),
				heapKiBAsleep: heap2 === null ? null : round(((heap2 - heap0) * 1024) / roomCount, 2),
				// The rooms woken at once, with the inbox objects their drains woke.
				rssKiBAwake: rss3 === null ? null : round((rss3 - rss2) / 1024 / Math.max(1, awake.length), 1),
				heapKiBAwake: heap3 === null ? null : round(((heap3 - heap2) * 1024) / Math.max(1, awake.length), 1),
			},
		});
	} finally {
		if (state) closeRooms(state);
		watcher?.close();
		await sleep(300);
		target.close();
	}
	return results;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
	const base = new URL(env("BASE", "http://127.0.0.1:8787"));
	const server = await maybeFresh(base);
	try {
		await runIdle({ base });
	} finally {
		await server?.stop();
	}
}
