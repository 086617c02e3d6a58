// A tiny terminal client for the walk-through: prints every frame of a conversation socket and sends
// each line you type as a message. Pings every 30 s, as every client should.
//   npm run chat -- <conversationId> <token> [afterSeq]      (BASE defaults to http://127.0.0.1:8787)
import { randomUUID } from "node:crypto";
import { createInterface } from "node:readline";

const [conversationId, token, after] = process.argv.slice(2);
if (!conversationId || !token) {
	console.error("usage: npm run chat -- <conversationId> <token> [afterSeq]");
	process.exit(2);
}
const base = (process.env.BASE ?? "http://127.0.0.1:8787").replace(/^http/, "ws");
const query = new URLSearchParams({ token, ...(after === undefined ? {} : { after }) });
const ws = new WebSocket(`${base}/v1/conversations/${conversationId}/ws?${query}`);
let ping;

ws.addEventListener("open", () => {
	ping = setInterval(() => ws.send('{"type":"ping"}'), 30_000);
	createInterface({ input: process.stdin }).on("line", (text) => {
		if (text.trim()) ws.send(JSON.stringify({ type: "message.send", clientId: randomUUID(), text }));
	});
});
ws.addEventListener("message", (event) => console.log(event.data));
ws.addEventListener("close", (event) => {
	clearInterval(ping);
	console.error(`closed ${event.code} ${event.reason}`);
	process.exit(event.code === 1000 ? 0 : 1);
});
ws.addEventListener("error", () => console.error("socket error"));
