/**
 * The conversation's open sockets, found through the runtime (tags and attachments), never through a
 * map of our own that hibernation would erase.
 */
import { closeSocket } from "../../errors";
import type { ServerFrame } from "../../protocol";
import { broadcastTo, safeSend } from "../socket-io";

export interface SocketAttachment {
	userId: string;
	/** When the token the socket was opened with stops being valid (ms since the epoch); 0: never. */
	expiresAt: number;
}

const attachments = new WeakMap<WebSocket, SocketAttachment>();

function userTag(userId: string): string {
	return `u:${userId}`;
}

/** The attachment, deserialized once per socket per wake-up. */
export function attachmentOf(ws: WebSocket): SocketAttachment | null {
	let attachment = attachments.get(ws);
	if (!attachment) {
		attachment = (ws.deserializeAttachment() as SocketAttachment | null) ?? undefined;
		if (!attachment) return null;
		attachments.set(ws, attachment);
	}
	return attachment;
}

export function sendFrame(ws: WebSocket, frame: ServerFrame): void {
	safeSend(ws, JSON.stringify(frame));
}

/** The room's sockets: what the commands see of the object's WebSocket state. */
export class RoomSockets {
	constructor(private readonly ctx: DurableObjectState) {}

	/** Accepts a member's socket, hibernatable, tagged with the user and carrying its token's expiry. */
	accept(ws: WebSocket, attachment: SocketAttachment): void {
		this.ctx.acceptWebSocket(ws, [userTag(attachment.userId)]);
		ws.serializeAttachment(attachment);
		attachments.set(ws, attachment);
	}

	all(): WebSocket[] {
		return this.ctx.getWebSockets();
	}

	/** The user's sockets, open or closing. */
	ofUser(userId: string): WebSocket[] {
		return this.ctx.getWebSockets(userTag(userId));
	}

	/** The user's open sockets but `except`. */
	openOf(userId: string, except?: WebSocket): WebSocket[] {
		return this.ofUser(userId).filter((ws) => ws !== except && ws.readyState === WebSocket.OPEN);
	}

	/** Whether the socket is one of the user's. */
	isUsers(ws: WebSocket, userId: string): boolean {
		return this.ctx.getTags(ws).includes(userTag(userId));
	}

	/** The users with at least one open socket here. */
	online(): Set<string> {
		const users = new Set<string>();
		for (const ws of this.ctx.getWebSockets()) {
			if (ws.readyState !== WebSocket.OPEN) continue;
			const attachment = attachmentOf(ws);
			if (attachment) users.add(attachment.userId);
		}
		return users;
	}

	broadcast(frame: ServerFrame, except?: (ws: WebSocket) => boolean): void {
		broadcastTo(this.ctx.getWebSockets(), frame, except);
	}

	/**
	 * Closes, with the close code of `unauthorized`, the sockets whose token has expired, as a client
	 * reconnecting with a fresh token expects; answers when the next one expires (ms since the epoch),
	 * or null when none will.
	 */
	closeExpired(now = Date.now()): number | null {
		let next: number | null = null;
		for (const ws of this.ctx.getWebSockets()) {
			const expiresAt = attachmentOf(ws)?.expiresAt ?? 0;
			if (expiresAt === 0) continue;
			if (expiresAt <= now) closeSocket(ws, "unauthorized", "token expired");
			else if (next === null || expiresAt < next) next = expiresAt;
		}
		return next;
	}
}
