// Measures when a hibernatable WebSocket's TCP connection ends (the `ws` client's "close" event, which
// needs the server's FIN), for each way of closing it, on a bare workerd (config.capnp) or, with
// BASE=http://host:port, on any server running worker.js. Prints one JSON line per case.
//   node bench/close-delay/probe.mjs
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import WebSocket from "ws";

const here = fileURLToPath(new URL(".", import.meta.url));
const PORT = 9631;
const BASE = process.env.BASE ?? `http://127.0.0.1:${PORT}`;
const GIVE_UP_MS = Number(process.env.GIVE_UP_MS ?? 30_000);

async function startWorkerd() {
	const bin = fileURLToPath(
		new URL("../../node_modules/@cloudflare/workerd-linux-64/bin/workerd", import.meta.url),
	);
	const child = spawn(bin, ["serve", "--experimental", "config.capnp"], {
		cwd: here,
		stdio: ["ignore", "pipe", "pipe"],
	});
	for (let i = 0; i < 100; i++) {
		try {
			await fetch(`${BASE}/?room=warmup&mode=none`);
			return child;
		} catch {
			await new Promise((r) => setTimeout(r, 100));
		}
	}
	child.kill();
	throw new Error("workerd did not start");
}

function open(room, name = "target") {
	const ws = new WebSocket(`${BASE.replace(/^http/, "ws")}/ws?room=${room}&name=${name}`);
	return new Promise((resolve, reject) => {
		ws.on("open", () => resolve(ws));
		ws.on("error", reject);
	});
}

/** Opens a socket in `room`, has it closed `how`, and times the close frame and the TCP end. */
async function measure(how, { busy = false } = {}) {
	const room = `${how}-${busy ? "busy" : "idle"}-${Date.now()}`;
	const ws = await open(room);
	let keepBusy = null;
	let other = null;
	if (busy) {
		other = await open(room, "busy");
		keepBusy = setInterval(() => other.send("busy"), 300);
	}
	const t0 = Date.now();
	const result = { case: how, room: busy ? "busy" : "idle", closeFrameMs: null, tcpEndMs: null };
	ws._receiver?.on?.("conclude", () => (result.closeFrameMs = Date.now() - t0));
	ws.on("message", (data) => {
		const frame = JSON.parse(String(data));
		if (frame.type === "please-close") ws.close(frame.code, "asked by the server");
	});
	const ended = new Promise((resolve) => {
		ws.on("close", (code) => {
			result.tcpEndMs = Date.now() - t0;
			result.code = code;
			resolve();
		});
	});
	if (how === "client") ws.close(4403, "closed by the client");
	else await fetch(`${BASE}/?room=${room}&mode=${how === "ask-client" ? "ask" : "close"}`);
	await Promise.race([ended, new Promise((r) => setTimeout(r, GIVE_UP_MS))]);
	if (keepBusy) clearInterval(keepBusy);
	other?.terminate();
	ws.terminate();
	console.log(JSON.stringify(result));
}

const workerd = process.env.BASE ? null : await startWorkerd();
try {
	for (const busy of [false, true]) {
		await measure("server", { busy });
		await measure("client", { busy });
		await measure("ask-client", { busy });
	}
} finally {
	workerd?.kill();
}
