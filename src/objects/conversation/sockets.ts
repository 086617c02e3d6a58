/**
 * The conversation's open sockets, found through the runtime (tags and attachments), never through a
 * map of our own that hibernation would erase. A socket the server ended (sessions.ts) gets no frame
 * and counts as nobody's while it waits for its client to close it.
 */
import type { ServerFrame } from "../../protocol";
import { isLive, type Session, saveSession, sessionOf } from "../sessions";
import { broadcastTo, safeSend } from "../socket-io";

export interface SocketAttachment extends Session {
	userId: string;
}

function userTag(userId: string): string {
	return `u:${userId}`;
}

/** The attachment, deserialized once per socket per wake-up. */
export function attachmentOf(ws: WebSocket): SocketAttachment | null {
	return sessionOf<SocketAttachment>(ws);
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
		saveSession(ws, attachment);
	}

	all(): WebSocket[] {
		return this.ctx.getWebSockets();
	}

	/** The user's sockets, open or closing. */
	ofUser(userId: string): WebSocket[] {
		return this.ctx.getWebSockets(userTag(userId));
	}

	/** The user's live sockets (open, not ended) but `except`. */
	openOf(userId: string, except?: WebSocket): WebSocket[] {
		return this.ofUser(userId).filter((ws) => ws !== except && isLive(ws));
	}

	/** Whether the socket is one of the user's. */
	isUsers(ws: WebSocket, userId: string): boolean {
		return this.ctx.getTags(ws).includes(userTag(userId));
	}

	/** The users with at least one live socket here. */
	online(): Set<string> {
		const users = new Set<string>();
		for (const ws of this.ctx.getWebSockets()) {
			if (!isLive(ws)) continue;
			const attachment = attachmentOf(ws);
			if (attachment) users.add(attachment.userId);
		}
		return users;
	}

	/** To every live socket (but those `except` names). */
	broadcast(frame: ServerFrame, except?: (ws: WebSocket) => boolean): void {
		broadcastTo(this.ctx.getWebSockets(), frame, (ws) => !isLive(ws) || (except?.(ws) ?? false));
	}
}
