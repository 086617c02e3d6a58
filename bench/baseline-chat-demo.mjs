// The comparison baseline of issue 13: Cloudflare's workers-chat-demo (github.com/cloudflare/
// workers-chat-demo: a ChatRoom Durable Object per room with hibernatable WebSockets and storage, a
// RateLimiter object per client IP), served by `wrangler dev` on DEMO_BASE, driven with the same
// room load as bench/rooms.mjs (bench/lib/room-load.mjs), so that the figures sit side by side.
//
// This repository carries no copy of the demo and no recipe for serving it: fetch it yourself, serve
// it on loopback with this project's wrangler (`wrangler dev --ip 127.0.0.1 --port <port>`), and point
// DEMO_BASE at it. Two things of the demo shape what is measured, and docs/benchmarks.md says how the
// run it reports was set up:
// - its rate limiter allows a message every 5 s per IP after a burst (`nextAllowedTime += 5`): for a
//   load test that cooldown has to be lifted in the served copy, as bench/fanout.mjs lifts edgechat's
//   send rate. Each message still costs the demo's per-message call to its limiter object;
// - the limiter is chosen by the `CF-Connecting-IP` header: DEMO_IP=per-member (default) gives every
//   socket its own address, as distinct clients would have; DEMO_IP=shared sends none, so every socket
//   shares one limiter object.
//
// What differs by design, and the figures inherit it: the demo has no acks (a send is answered by the
// sender's own copy of the broadcast), no seq (its per-room timestamp orders messages), no auth and
// no inbox or mirror; it broadcasts *before* it writes (`broadcast` then `storage.put`), and its
// history is the last 100 messages a new socket is sent when it joins, which is what the history check
// reads (rooms with more messages than that cannot be checked whole).
//
//   DEMO_BASE=http://127.0.0.1:9260 npx node bench/baseline-chat-demo.mjs
//   # env: DEMO_BASE ROOMS MEMBERS RATES SECONDS CONNECT_CONCURRENCY SAMPLE_ROOMS MAX_BEHIND_SECONDS
//   #      DEMO_IP INSPECT PROFILE (as bench/rooms.mjs)
import { randomBytes } from "node:crypto";
import { fileURLToPath } from "node:url";
import WebSocket from "ws";
import { cpuMsOf, rssOf, workerdPids } from "./lib/rss.mjs";
import { roomsTable, runRoomsOn } from "./rooms.mjs";

const env = (name, fallback) => process.env[name] ?? fallback;

/** Decodes the demo's frames: `{name, message, timestamp}` is a message, `{error}` a refusal. */
export function decodeChatDemo(text) {
	const frame = JSON.parse(text);
	if (typeof frame.message === "string" && typeof frame.timestamp === "number") {
		return { created: [{ key: frame.message, seq: frame.timestamp }] };
	}
	if (frame.error) return { error: { key: null, code: String(frame.error).slice(0, 80) } };
	return null;
}

/** Opens a socket on the demo's room and joins it as `name`; resolves with the frames before ready. */
function join(base, roomName, name, headers) {
	const ws = new WebSocket(`ws://${base.hostname}:${base.port || 80}/api/room/${roomName}/websocket`, {
		headers,
		perMessageDeflate: false,
	});
	const before = [];
	const ready = new Promise((resolve, reject) => {
		ws.once("error", reject);
		ws.once("close", (code) => reject(new Error(`closed ${code} before ready`)));
		ws.once("open", () => ws.send(JSON.stringify({ name })));
		const onMessage = (data) => {
			const frame = JSON.parse(data.toString());
			if (frame.ready === true) {
				ws.off("message", onMessage);
				resolve(before);
			} else before.push(frame);
		};
		ws.on("message", onMessage);
	}).finally(() => {
		ws.removeAllListeners("error");
		ws.removeAllListeners("close");
		ws.on("error", () => {});
	});
	return { ws, ready };
}

export function chatDemoTarget(base, { ipPerMember = env("DEMO_IP", "per-member") !== "shared" } = {}) {
	const suffix = randomBytes(3).toString("hex");
	const port = Number(base.port || 80);
	const pending = new WeakMap(); // socket → its join promise
	const ipOf = (r, m) => `10.${(r >> 8) & 255}.${r & 255}.${m + 1}`;
	const pids = () => workerdPids(port);
	return {
		name: "workers-chat-demo",
		hasAck: false,
		async createRooms(r, m) {
			// A room exists once a socket joins it (idFromName of a name of at most 32 characters).
			return Array.from({ length: r }, (_, i) => ({
				id: `b${suffix}-${i}`,
				index: i,
				members: Array.from({ length: m }, (_, k) => `m${k}`),
			}));
		},
		open(room, m) {
			const headers = ipPerMember ? { "CF-Connecting-IP": ipOf(room.index, m) } : {};
			const { ws, ready } = join(base, room.id, room.members[m], headers);
			pending.set(ws, ready);
			return ws;
		},
		ready: (ws) => pending.get(ws),
		encode: (key) => JSON.stringify({ message: key }),
		decode: decodeChatDemo,
		async history(room) {
			// What a new member is sent on joining: the room's last 100 stored messages.
			const { ws, ready } = join(base, room.id, "history-check", {});
			const backlog = await ready;
			ws.close(1000, "history read");
			const stored = new Map();
			for (const frame of backlog)
				if (typeof frame.message === "string") stored.set(frame.message, frame.timestamp);
			return stored;
		},
		rss: async () => rssOf(pids()),
		cpuMs: async () => cpuMsOf(pids()),
		close() {},
	};
}

export async function runChatDemo({
	base = new URL(env("DEMO_BASE", "http://127.0.0.1:8788")),
	...options
} = {}) {
	const target = chatDemoTarget(base);
	return runRoomsOn(target, {
		base,
		classes: ["ChatRoom", "RateLimiter"],
		workerName: "edge-chat-demo",
		...options,
	});
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
	const results = await runChatDemo();
	console.log(`\n${roomsTable(results)}`);
}
