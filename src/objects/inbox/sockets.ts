/**
 * The user's device sockets, found through the runtime by tag, never through a map of our own. Each
 * carries its session (sessions.ts): a socket the server ended gets no frame while it waits for its
 * client to close it.
 */
import type { InboxServerFrame } from "../../protocol";
import { isLive, type Session, saveSession } from "../sessions";
import { broadcastTo, safeSend } from "../socket-io";

const DEVICE_TAG = "device";

export function sendFrame(ws: WebSocket, frame: InboxServerFrame): void {
	safeSend(ws, JSON.stringify(frame));
}

/** The inbox's device sockets: what its commands see of the object's WebSocket state. */
export class DeviceSockets {
	constructor(private readonly ctx: DurableObjectState) {}

	accept(ws: WebSocket, session: Session): void {
		this.ctx.acceptWebSocket(ws, [DEVICE_TAG]);
		saveSession(ws, session);
	}

	all(): WebSocket[] {
		return this.ctx.getWebSockets(DEVICE_TAG);
	}

	/** How many device sockets are live (open, and not ending their session). */
	count(): number {
		return this.all().filter(isLive).length;
	}

	/** Serializes the frame once and sends it to every live device. */
	broadcast(frame: InboxServerFrame): void {
		broadcastTo(this.all().filter(isLive), frame);
	}
}
