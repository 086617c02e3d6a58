/**
 * The conversation's open sockets, found through the runtime (tags and attachments), never through a
 * map of our own that hibernation would erase.
 */
import type { ServerFrame } from "../../protocol";

export interface SocketAttachment {
	userId: string;
	/** When the token the socket was opened with stops being valid (ms since the epoch); 0: never. */
	expiresAt: number;
}

const attachments = new WeakMap<WebSocket, SocketAttachment>();

export function userTag(userId: string): string {
	return `u:${userId}`;
}

export function attach(ws: WebSocket, attachment: SocketAttachment): void {
	ws.serializeAttachment(attachment);
	attachments.set(ws, attachment);
}

/** The socket's attachment, deserialized once per socket per wake-up. */
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

/** A socket that closed between our look-up and the send must not fail the handler. */
export function safeSend(ws: WebSocket, data: string): void {
	try {
		ws.send(data);
	} catch {
		// The close handler cleans up after it.
	}
}

/**
 * Closes, with 4401, the sockets whose token has expired, as a client reconnecting with a fresh token
 * expects; answers when the next one expires (ms since the epoch), or null when none will.
 */
export function closeExpiredSockets(ctx: DurableObjectState, now = Date.now()): number | null {
	let next: number | null = null;
	for (const ws of ctx.getWebSockets()) {
		const expiresAt = attachmentOf(ws)?.expiresAt ?? 0;
		if (expiresAt === 0) continue;
		if (expiresAt <= now) {
			try {
				ws.close(4401, "token expired");
			} catch {
				// already closing
			}
		} else if (next === null || expiresAt < next) next = expiresAt;
	}
	return next;
}

/** Serializes the frame once and sends the same string to every socket. */
export function broadcast(
	ctx: DurableObjectState,
	frame: ServerFrame,
	except?: (ws: WebSocket) => boolean,
): void {
	const data = JSON.stringify(frame);
	for (const ws of ctx.getWebSockets()) {
		if (except?.(ws)) continue;
		safeSend(ws, data);
	}
}

export function openSocketsOf(ctx: DurableObjectState, userId: string, except?: WebSocket): WebSocket[] {
	return ctx.getWebSockets(userTag(userId)).filter((ws) => ws !== except && ws.readyState === WebSocket.OPEN);
}

export function onlineUserIds(ctx: DurableObjectState): Set<string> {
	const users = new Set<string>();
	for (const ws of ctx.getWebSockets()) {
		if (ws.readyState !== WebSocket.OPEN) continue;
		const attachment = attachmentOf(ws);
		if (attachment) users.add(attachment.userId);
	}
	return users;
}
