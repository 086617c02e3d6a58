// The smallest Durable Object with hibernatable WebSockets, to show when workerd ends the TCP
// connection of a socket the server closed (bench/close-delay/README.md). No edgechat code.
import { DurableObject } from "cloudflare:workers";

export class Room extends DurableObject {
	async fetch(request) {
		const url = new URL(request.url);
		if (url.pathname === "/ws") {
			const { 0: client, 1: server } = new WebSocketPair();
			this.ctx.acceptWebSocket(server, [url.searchParams.get("name") ?? "target"]);
			return new Response(null, { status: 101, webSocket: client });
		}
		// The server closes the target's sockets: either at once, or by asking the client to close first.
		const mode = url.searchParams.get("mode");
		for (const ws of this.ctx.getWebSockets("target")) {
			if (mode === "ask") ws.send(JSON.stringify({ type: "please-close", code: 4403 }));
			else ws.close(4403, "closed by the server");
		}
		return new Response("ok");
	}

	async webSocketMessage(ws, message) {
		// Anything the busy socket sends keeps the object awake (not an auto-response).
		if (message === "busy") ws.send("ok");
	}

	async webSocketClose(ws, code, reason) {
		// The reciprocal close: completes the handshake of a close the client started.
		try {
			ws.close(code, reason);
		} catch {}
	}
}

export default {
	fetch(request, env) {
		const room = new URL(request.url).searchParams.get("room") ?? "r";
		return env.ROOM.getByName(room).fetch(request);
	},
};
