/** The user's device sockets, found through the runtime by tag, never through a map of our own. */
import type { InboxServerFrame } from "../../protocol";
import { broadcastTo, safeSend } from "../socket-io";

const DEVICE_TAG = "device";

export function sendFrame(ws: WebSocket, frame: InboxServerFrame): void {
	safeSend(ws, JSON.stringify(frame));
}

/** The inbox's device sockets: what its commands see of the object's WebSocket state. */
export class DeviceSockets {
	constructor(private readonly ctx: DurableObjectState) {}

	accept(ws: WebSocket): void {
		this.ctx.acceptWebSocket(ws, [DEVICE_TAG]);
	}

	/** How many device sockets are open. */
	count(): number {
		return this.ctx.getWebSockets(DEVICE_TAG).filter((ws) => ws.readyState === WebSocket.OPEN).length;
	}

	/** Serializes the frame once and sends it to every open device. */
	broadcast(frame: InboxServerFrame): void {
		broadcastTo(
			this.ctx.getWebSockets(DEVICE_TAG).filter((ws) => ws.readyState === WebSocket.OPEN),
			frame,
		);
	}
}
