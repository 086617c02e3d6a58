// The machine's reference for bench/fanout.mjs: a plain Node `ws` broadcast server (no persistence,
// no auth, no compression) on a free loopback port, speaking the same frames as the conversation
// socket, driven by the same load generator (bench/lib/load.mjs). The server runs in a worker thread
// of this process, so it has its own event loop as workerd has its own process; its RSS figure is
// the whole process (server and load generator), which is what /proc can tell apart; its CPU figure
// is the server thread's alone.
//
//   npm run bench:baseline   # or: npx node bench/baseline-ws.mjs
import { once } from "node:events";
import { fileURLToPath } from "node:url";
import { isMainThread, parentPort, Worker } from "node:worker_threads";
import WebSocket, { WebSocketServer } from "ws";
import { runTarget } from "./lib/load.mjs";

/** The server: assigns a seq, serializes `message.created` once, sends it to every socket, acks. */
function serve() {
	const wss = new WebSocketServer({ host: "127.0.0.1", port: 0, perMessageDeflate: false });
	const rooms = new Map();
	wss.on("connection", (ws, request) => {
		const url = new URL(request.url, "http://localhost");
		const roomId = url.pathname.split("/")[2] ?? "r";
		const userId = url.searchParams.get("user") ?? "anonymous";
		let room = rooms.get(roomId);
		if (!room) {
			room = { lastSeq: 0, sockets: new Set() };
			rooms.set(roomId, room);
		}
		room.sockets.add(ws);
		ws.send(JSON.stringify({ type: "ready", conversationId: roomId, lastSeq: room.lastSeq, protocol: 1 }));
		ws.on("close", () => room.sockets.delete(ws));
		ws.on("message", (data) => {
			const frame = JSON.parse(data.toString());
			if (frame.type !== "message.send") return;
			const now = Date.now();
			const message = {
				id: `m_${now.toString(36)}${room.lastSeq}`,
				conversationId: roomId,
				seq: ++room.lastSeq,
				senderId: userId,
				clientId: frame.clientId,
				text: frame.text ?? null,
				attachments: [],
				replyTo: null,
				createdAt: new Date(now).toISOString(),
				editedAt: null,
				deletedAt: null,
			};
			const created = JSON.stringify({ type: "message.created", message });
			for (const socket of room.sockets) socket.send(created);
			ws.send(
				JSON.stringify({
					type: "message.ack",
					clientId: frame.clientId,
					seq: message.seq,
					id: message.id,
					duplicate: false,
				}),
			);
		});
	});
	wss.on("listening", () => parentPort.postMessage({ port: wss.address().port }));
}

export async function baselineTarget() {
	const worker = new Worker(fileURLToPath(import.meta.url));
	const [{ port }] = await once(worker, "message");
	let rooms = 0;
	return {
		name: "baseline-ws",
		async rss() {
			return process.memoryUsage.rss();
		},
		async cpuMs() {
			const { user, system } = await worker.cpuUsage();
			return (user + system) / 1000;
		},
		async room(n) {
			const roomId = `room${++rooms}n${n}`;
			return {
				open: (i) =>
					new WebSocket(`ws://127.0.0.1:${port}/rooms/${roomId}?user=u${i}`, { perMessageDeflate: false }),
			};
		},
		async stop() {
			await worker.terminate();
		},
	};
}

export async function runBaseline({ ns, phases, emit } = {}) {
	const target = await baselineTarget();
	try {
		return await runTarget(target, { ns, phases, emit });
	} finally {
		await target.stop();
	}
}

if (!isMainThread) {
	serve();
} else if (process.argv[1] === fileURLToPath(import.meta.url)) {
	const ns = (process.env.NS ?? "2,10,100").split(",").map(Number);
	const phases = (process.env.PHASES ?? "fixed,max").split(",");
	await runBaseline({ ns, phases, emit: (result) => console.log(JSON.stringify(result)) });
}
