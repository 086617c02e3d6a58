// Many rooms (issue 13, "the cost of a message"): ROOMS group conversations of MEMBERS members
// (default 200 × 5), every member with one conversation socket open, and a total open-loop rate spread
// over the rooms, each message from a random member of a random room: a message every few seconds per
// room, the load real chat has. One phase per rate in RATES (default 50 and 200 msg/s), SECONDS each.
// The large configuration is `ROOMS=1000 RATES=500` ("say how far it gets": a phase stops
// sending once a send has waited more than MAX_BEHIND_SECONDS, default 10, for its ack, and says when;
// `timeline` has, per second of the phase, [sends, of which acked, p99 ms until every member had them]).
//
// Prints one JSON object for the set-up (connect times, RSS), one per phase, one for the history
// check, then a Markdown table. Figures, never assertions (see docs/benchmarks.md):
// - latency: `message.send` written → `message.created` read on each *other* member's socket
//   (`allMembersMs`: until the last member of the room had it); loss = acked messages a member's
//   socket never received; dup = a message twice on one socket; reordered = a lower seq after a higher;
// - stored before broadcast, checked after the fact: for SAMPLE_ROOMS rooms, every broadcast message
//   is in `GET …/messages` with the seq its broadcast carried (the ordering itself rests on the output
//   gate, which a client cannot observe);
// - server CPU per message and RSS: both workerd processes of the dev server (bench/lib/rss.mjs);
// - PROFILE=path: a V8 CPU profile of the user worker per phase (path-<rate>.cpuprofile, for Chrome
//   DevTools), and its top functions by self time in the phase's JSON;
// - INSPECT=1: how many Conversation and Inbox objects were constructed during each phase (a room
//   whose gap between messages exceeded the runtime's idle timeout was evicted and woke again; see
//   bench/idle.mjs), and the V8 heap of the user worker.
//
//   npm run dev                          # another terminal; or FRESH=1 to start a fresh one on BASE's port
//   npx node bench/rooms.mjs             # env: BASE ROOMS MEMBERS RATES SECONDS CONNECT_CONCURRENCY
//                                        #      SAMPLE_ROOMS MAX_BEHIND_SECONDS USER_POOL DIRECT INSPECT
//                                        #      PROFILE FRESH
import { writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import WebSocket from "ws";
import { startDevServer } from "../scripts/dev-server.mjs";
import { devApi } from "./lib/dev-api.mjs";
import { topSelfTime, watchConstructors } from "./lib/inspector.mjs";
import { settle } from "./lib/load.mjs";
import {
	checkHistory,
	closeRooms,
	connectRooms,
	mib,
	pool,
	round,
	runRoomPhase,
	sleep,
} from "./lib/room-load.mjs";
import { cpuMsOf, rssOf, workerdPids } from "./lib/rss.mjs";
import { createBenchTenant } from "./lib/tenant.mjs";
import { discoverUserWorker, pokeWorker } from "./lib/workerd.mjs";

const env = (name, fallback) => process.env[name] ?? fallback;
/** Progress on stderr, with the wall-clock time, so that a server-side trace can be lined up with it. */
export const progress = (text) => console.error(`${new Date().toISOString().slice(11, 23)} ${text}`);

/** Decodes edgechat's server frames into what the room load needs. */
export function decodeEdgechat(text) {
	const frame = JSON.parse(text);
	switch (frame.type) {
		case "message.created":
			return { created: [{ key: frame.message.clientId, seq: frame.message.seq }] };
		case "messages.created":
			return { created: frame.messages.map((m) => ({ key: m.clientId, seq: m.seq })) };
		case "message.ack":
			return { ack: { key: frame.clientId, seq: frame.seq } };
		case "error":
			return frame.clientId ? { error: { key: frame.clientId, code: frame.code } } : null;
		default:
			return null;
	}
}

/**
 * The edgechat target of bench/lib/room-load.mjs on the dev server at `base`: a fresh tenant, one
 * group conversation per room created by its member 0, tokens minted locally. `direct` connects the
 * sockets to the user worker's own entry socket instead of wrangler's proxy (bench/lib/workerd.mjs).
 */
export async function edgechatRoomsTarget(base, { direct = false, userPool = 0, prefix = "rooms" } = {}) {
	const { agent, request } = devApi(base, 16);
	const tenant = await createBenchTenant(request, base, prefix);
	const port = Number(base.port || 80);
	let wsPort = port;
	if (direct) {
		const found = await discoverUserWorker(port);
		if (!found.entryPort) throw new Error("DIRECT=1: the user worker's entry socket was not found");
		wsPort = found.entryPort;
	}
	const tokens = new Map();
	const token = (userId) => {
		let t = tokens.get(userId);
		if (!t) {
			t = tenant.token(userId);
			tokens.set(userId, t);
		}
		return t;
	};
	const pids = () => workerdPids(port);
	return {
		name: "edgechat",
		hasAck: true,
		tenant,
		wsPort,
		async createRooms(r, m, concurrency = 8) {
			const rooms = new Array(r);
			await pool(r, concurrency, async (i) => {
				const members = Array.from({ length: m }, (_, k) =>
					userPool > 0 ? `u${(i * m + k) % userPool}` : `r${i}m${k}`,
				);
				const { conversation } = await request("POST", "/v1/conversations", {
					host: tenant.host,
					auth: token(members[0]),
					body: { type: "group", title: `room ${i}`, memberIds: members.slice(1) },
				});
				rooms[i] = { id: conversation.id, members };
			});
			return rooms;
		},
		open(room, m) {
			return new WebSocket(
				`ws://${base.hostname}:${wsPort}/v1/conversations/${room.id}/ws?token=${token(room.members[m])}`,
				{
					headers: { Host: tenant.host },
					perMessageDeflate: false,
				},
			);
		},
		ready(ws) {
			return new Promise((resolve, reject) => {
				ws.once("error", reject);
				ws.once("close", (code) => reject(new Error(`closed ${code} before ready`)));
				ws.once("message", (data) => {
					const frame = JSON.parse(data.toString());
					if (frame.type === "ready") resolve();
					else reject(new Error(`first frame ${frame.type}`));
				});
			}).finally(() => {
				ws.removeAllListeners("error");
				ws.removeAllListeners("close");
				ws.on("error", () => {});
			});
		},
		encode: (key) => JSON.stringify({ type: "message.send", clientId: key, text: `bench ${key}` }),
		decode: decodeEdgechat,
		async history(room) {
			const stored = new Map();
			let after = 0;
			for (;;) {
				const page = await request("GET", `/v1/conversations/${room.id}/messages?after=${after}&limit=200`, {
					host: tenant.host,
					auth: token(room.members[0]),
				});
				for (const message of page.messages) stored.set(message.clientId, message.seq);
				if (!page.hasMore || page.messages.length === 0) break;
				after = page.messages.at(-1).seq;
			}
			return stored;
		},
		rss: async () => rssOf(pids()),
		cpuMs: async () => cpuMsOf(pids()),
		close: () => agent.destroy(),
	};
}

/** Counts constructor reports per class since `from` (an index into watcher.events). */
export function constructedSince(watcher, from) {
	const counts = {};
	for (const e of watcher.events.slice(from)) counts[e.className] = (counts[e.className] ?? 0) + 1;
	return counts;
}

export async function runRooms({
	base = new URL(env("BASE", "http://127.0.0.1:8787")),
	direct = env("DIRECT", "0") === "1",
	userPool = Number(env("USER_POOL", 0)),
	...options
} = {}) {
	const target = await edgechatRoomsTarget(base, { direct, userPool });
	return runRoomsOn(target, { base, direct, classes: ["Conversation", "Inbox"], ...options });
}

/**
 * The rooms benchmark on any target of bench/lib/room-load.mjs served by the dev server at `base`
 * (bench/baseline-chat-demo.mjs runs it on Cloudflare's chat demo); `classes` are the Durable Object
 * classes whose constructions INSPECT=1 counts.
 */
export async function runRoomsOn(
	target,
	{
		base,
		classes,
		direct = false,
		rooms: roomCount = Number(env("ROOMS", 200)),
		members = Number(env("MEMBERS", 5)),
		rates = env("RATES", "50,200").split(",").map(Number),
		seconds = Number(env("SECONDS", 30)),
		connectConcurrency = Number(env("CONNECT_CONCURRENCY", 16)),
		sampleRooms = Number(env("SAMPLE_ROOMS", 20)),
		maxBehindSeconds = Number(env("MAX_BEHIND_SECONDS", 10)),
		inspect = env("INSPECT", "0") === "1",
		profile = env("PROFILE", ""),
		workerName = "edgechat",
		emit = (result) => console.log(JSON.stringify(result)),
	},
) {
	const port = Number(base.port || 80);
	const results = [];
	const out = (result) => {
		results.push(result);
		emit(result);
	};

	let watcher = null;
	if (inspect || profile) {
		const { inspectorUrl } = await discoverUserWorker(port, workerName);
		if (inspectorUrl)
			watcher = await watchConstructors(inspectorUrl, classes, { poke: () => pokeWorker(port) });
		else console.error("INSPECT=1: the user worker's inspector was not found; going on without it");
	}
	let state = null;
	try {
		await settle(target);
		const rssEmpty = await target.rss();
		const heapEmpty = watcher ? await watcher.heapUsed() : null;
		progress(`creating ${roomCount} rooms of ${members}`);
		const created = performance.now();
		const roomList = await target.createRooms(roomCount, members);
		const createMs = performance.now() - created;
		progress(`connecting ${roomCount * members} sockets`);
		const connected = await connectRooms(target, roomList, { concurrency: connectConcurrency });
		state = connected.state;
		const rssConnected = await target.rss();
		const heapConnected = watcher ? await watcher.heapUsed() : null;
		const settleMs = await settle(target);
		out({
			bench: "rooms",
			step: "setup",
			target: target.name,
			rooms: roomCount,
			members,
			sockets: roomCount * members,
			direct,
			createRoomsMs: round(createMs, 0),
			connect: connected.connect,
			settleMs,
			rssMiB: { empty: mib(rssEmpty), connected: mib(rssConnected) },
			// Both workerd processes; the rooms are awake here (just created and joined), and so are the
			// members' inbox objects (the creation updated their conversation lists).
			rssKiBPerRoomAwake:
				rssEmpty === null || rssConnected === null
					? null
					: round((rssConnected - rssEmpty) / 1024 / roomCount, 1),
			heapMiB: watcher ? { empty: mib(heapEmpty), connected: mib(heapConnected) } : null,
			constructed: watcher ? constructedSince(watcher, 0) : null,
		});
		const broadcast = [];
		for (const rate of rates) {
			const settleBefore = await settle(target);
			const mark = watcher?.events.length ?? 0;
			progress(`phase ${rate} msg/s for ${seconds} s`);
			if (profile && watcher) await watcher.startProfile();
			const phase = await runRoomPhase(target, state, {
				rate,
				seconds,
				tag: `p${rate}x${Math.random().toString(36).slice(2, 7)}`,
				maxBehindSeconds,
			});
			broadcast.push(...phase.broadcast);
			let top = null;
			if (profile && watcher) {
				const cpuprofile = await watcher.stopProfile();
				const file = `${profile.replace(/\.cpuprofile$/, "")}-${rate}.cpuprofile`;
				writeFileSync(file, JSON.stringify(cpuprofile));
				top = { file, selfTime: topSelfTime(cpuprofile, 12) };
			}
			const { broadcast: _omit, ...figures } = phase;
			out({
				bench: "rooms",
				step: "phase",
				target: target.name,
				...figures,
				settleMs: settleBefore,
				closedSockets: state.closed.length,
				constructedDuringPhase: watcher ? constructedSince(watcher, mark) : null,
				heapMiB: watcher ? mib(await watcher.heapUsed()) : null,
				profile: top,
			});
		}
		progress("history check");
		const history = await checkHistory(target, state, broadcast, sampleRooms);
		out({ bench: "rooms", step: "history", target: target.name, ...history });
	} finally {
		if (state) closeRooms(state);
		watcher?.close();
		await sleep(300);
		target.close();
	}
	return results;
}

/** A Markdown table of the phases of `results`. */
export function roomsTable(results) {
	const setup = results.find((r) => r.step === "setup");
	const history = results.find((r) => r.step === "history");
	const lines = [
		`connect ${setup?.connect.sockets} sockets: p50 ${setup?.connect.p50} / p99 ${setup?.connect.p99} ms, all in ${setup?.connect.totalMs} ms (${setup?.connect.failed} failed); RSS ${setup?.rssMiB.empty} → ${setup?.rssMiB.connected} MiB (${setup?.rssKiBPerRoomAwake} KiB per awake room of ${setup?.members})`,
		`history check: ${history?.checked} messages in ${history?.rooms} rooms, ${history?.missing} missing, ${history?.seqMismatch} with another seq`,
		"",
		"| rooms × members | target msg/s | sent/s | achieved msg/s | p50 ms | p99 ms | all-members p99 ms | lost | dup | reordered | errors | server CPU ms/msg | RSS MiB before→after | stopped behind at |",
		"| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
	];
	for (const r of results.filter((x) => x.step === "phase")) {
		lines.push(
			`| ${r.rooms} × ${r.members} | ${r.rate} | ${r.sendRate} | ${r.achievedRate} | ${r.latencyMs.p50} | ${r.latencyMs.p99} | ${r.allMembersMs.p99} | ${r.lostDeliveries} | ${r.dup} | ${r.reordered} | ${r.errors} | ${r.cpuMsPerMessage.server} | ${r.rssMiB.before} → ${r.rssMiB.after} | ${r.stoppedBehindAt ?? "–"} |`,
		);
	}
	return lines.join("\n");
}

/** FRESH=1: a fresh dev server (empty state) on BASE's port, its inspector on the next port. */
export async function maybeFresh(base) {
	if (env("FRESH", "0") !== "1") return null;
	const port = Number(base.port || 8787);
	return startDevServer({ port, args: ["--inspector-port", String(port + 1)] });
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
	const base = new URL(env("BASE", "http://127.0.0.1:8787"));
	const server = await maybeFresh(base);
	try {
		const results = await runRooms({ base });
		console.log(`\n${roomsTable(results)}`);
	} finally {
		await server?.stop();
	}
}
