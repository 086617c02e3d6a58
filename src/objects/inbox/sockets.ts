/** The user's device sockets, found through the runtime by tag, never through a map of our own. */
import type { InboxServerFrame } from "../../protocol";

export const DEVICE_TAG = "device";

export function sendFrame(ws: WebSocket, frame: InboxServerFrame): void {
	safeSend(ws, JSON.stringify(frame));
}

/** A socket that closed between our look-up and the send must not fail the handler. */
function safeSend(ws: WebSocket, data: string): void {
	try {
		ws.send(data);
	} catch {
		// The close handler cleans up after it.
	}
}

/** Serializes the frame once and sends it to every open device. */
export function broadcast(ctx: DurableObjectState, frame: InboxServerFrame): void {
	const data = JSON.stringify(frame);
	for (const ws of ctx.getWebSockets(DEVICE_TAG)) {
		if (ws.readyState === WebSocket.OPEN) safeSend(ws, data);
	}
}
