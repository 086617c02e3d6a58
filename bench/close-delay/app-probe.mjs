// The lead's probes (/work/probes) against edgechat itself: bob is removed from a group while his
// socket is open, in an idle room and in a room another socket keeps busy; times the close frame and
// the end of the TCP connection (the `ws` client's "close" event). Two clients: one that only reacts
// to the close frame, as a raw WebSocket does, and one that closes the socket itself when told why its
// session ended (`session.ended`), as the edgechat client does. Starts its own dev server on PORT.
//   PORT=9641 node bench/close-delay/app-probe.mjs
import WebSocket from "ws";
import { startDevServer } from "../../scripts/dev-server.mjs";

const PORT = Number(process.env.PORT ?? 9641);
const B = `http://127.0.0.1:${PORT}`;
const GIVE_UP_MS = Number(process.env.GIVE_UP_MS ?? 30_000);

const j = async (path, token, body, method) => {
	const r = await fetch(B + path, {
		method: method ?? (body ? "POST" : "GET"),
		headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
		body: body ? JSON.stringify(body) : undefined,
	});
	const t = await r.text();
	return t ? JSON.parse(t) : null;
};
const tokenOf = async (userId) => (await j("/v1/tokens", "dev_tenant_key", { userId })).token;
const open = (url) =>
	new Promise((resolve, reject) => {
		const ws = new WebSocket(url);
		ws.on("open", () => resolve(ws));
		ws.on("error", reject);
	});

async function measure({ busy, closesWhenTold }) {
	const alice = await tokenOf("alice");
	const bobId = `bob${Date.now()}`;
	const bob = await tokenOf(bobId);
	const { conversation } = await j("/v1/conversations", alice, { type: "group", memberIds: [bobId] });
	const url = (token) => `${B.replace("http", "ws")}/v1/conversations/${conversation.id}/ws?token=${token}`;
	let other = null;
	let timer = null;
	if (busy) {
		other = await open(url(alice));
		// Not the auto-answered ping: the object handles each one, so it never hibernates.
		timer = setInterval(() => other.send('{"type":"ping","keep":"busy"}'), 300);
	}
	const ws = await open(url(bob));
	ws.on("error", () => {});
	const result = { room: busy ? "busy" : "idle", client: closesWhenTold ? "closes when told" : "raw" };
	ws.on("message", (data) => {
		const frame = JSON.parse(String(data));
		if (frame.type === "session.ended") {
			result.sessionEndedMs = Date.now() - t0;
			if (closesWhenTold) ws.close(frame.closeCode, frame.code);
		}
	});
	ws._receiver?.on?.("conclude", (code) => {
		result.closeFrameMs = Date.now() - t0;
		result.closeFrameCode = code;
	});
	const ended = new Promise((resolve) => ws.on("close", resolve));
	const t0 = Date.now();
	await j(`/v1/conversations/${conversation.id}/members/${bobId}`, alice, undefined, "DELETE");
	const gaveUp = Symbol("gave up");
	const outcome = await Promise.race([ended, new Promise((r) => setTimeout(() => r(gaveUp), GIVE_UP_MS))]);
	result.tcpEndMs = outcome === gaveUp ? `none within ${GIVE_UP_MS} ms` : Date.now() - t0;
	if (timer) clearInterval(timer);
	other?.terminate();
	ws.terminate();
	console.log(JSON.stringify(result));
}

const server = await startDevServer({ port: PORT });
try {
	for (const busy of [false, true])
		for (const closesWhenTold of [false, true]) await measure({ busy, closesWhenTold });
} finally {
	await server.stop();
}
