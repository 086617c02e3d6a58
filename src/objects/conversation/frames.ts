/** What the Conversation object does with each frame a client sends on its socket. */
import { AppError, errorFrame } from "../../errors";
import { ClientFrame, LIMITS } from "../../protocol";
import { assertNever } from "../../util";
import { parseClientFrame } from "../frame-parser";
import type { Conversation } from "./conversation";
import { markRead } from "./read";
import { sendMessage } from "./send";
import { openSocketsOf, safeSend, sendFrame, userTag } from "./sockets";

export function handleFrame(
	room: Conversation,
	ws: WebSocket,
	userId: string,
	data: string | ArrayBuffer,
): void {
	let frame: ClientFrame;
	try {
		frame = parseClientFrame(data, ClientFrame);
	} catch (error) {
		sendFrame(ws, errorFrame(error, clientIdOf(data)));
		return;
	}
	try {
		dispatch(room, ws, userId, frame);
	} catch (error) {
		sendFrame(ws, errorFrame(error, frame.type === "message.send" ? frame.clientId : undefined));
	}
}

function dispatch(room: Conversation, ws: WebSocket, userId: string, frame: ClientFrame): void {
	switch (frame.type) {
		case "ping":
			// The runtime answers the exact text {"type":"ping"} itself; this covers other spellings.
			sendFrame(ws, { type: "pong" });
			return;
		case "message.send": {
			const { type: _type, ...body } = frame;
			const result = sendMessage(room.store, room.limiter, room.settings, userId, body);
			if (!result.duplicate) room.onMessageCreated(result.message);
			sendFrame(ws, {
				type: "message.ack",
				clientId: frame.clientId,
				seq: result.message.seq,
				id: result.message.id,
				duplicate: result.duplicate,
			});
			return;
		}
		case "read.mark":
			markRead(room, userId, frame.seq);
			return;
		case "typing.start":
		case "typing.stop": {
			const wait = room.limiter.take(`typing:${userId}`, room.settings.typingRate);
			if (wait > 0) throw new AppError("rate_limited", "Too many typing frames", wait);
			const sender = userTag(userId);
			const typing = { type: "typing", userId, active: frame.type === "typing.start" } as const;
			room.out.broadcast(typing, (other) => room.state.getTags(other).includes(sender));
			return;
		}
		case "sync":
			replay(room, ws, frame.after);
			return;
		default:
			assertNever(frame);
	}
}

/** Sends every message after `after`, in order, up to the replay cap, then says where it stopped. */
export function replay(room: Conversation, ws: WebSocket, after: number): void {
	room.out.flush(); // what is pending would otherwise reach this socket twice
	const messages = room.store.messagesAfter(after, LIMITS.replayMessages);
	for (const message of messages) safeSend(ws, JSON.stringify({ type: "message.created", message }));
	const lastSentSeq = messages.at(-1)?.seq ?? after;
	if (lastSentSeq < room.store.lastSeq) {
		sendFrame(ws, { type: "replay.truncated", lastSentSeq, lastSeq: room.store.lastSeq });
	}
}

/** Tells the others a user came online, and the newcomer who is online already. */
export function announceArrival(
	room: Conversation,
	ws: WebSocket,
	userId: string,
	online: Set<string>,
): void {
	for (const other of online)
		if (other !== userId) sendFrame(ws, { type: "presence", userId: other, online: true });
	if (openSocketsOf(room.state, userId, ws).length === 0) {
		room.out.broadcast({ type: "presence", userId, online: true }, (other) => other === ws);
	}
}

function clientIdOf(data: string | ArrayBuffer): string | undefined {
	if (typeof data !== "string" || data.length > LIMITS.frameBytes) return undefined;
	try {
		const json: unknown = JSON.parse(data);
		const clientId =
			typeof json === "object" && json !== null ? (json as { clientId?: unknown }).clientId : undefined;
		return typeof clientId === "string" && clientId.length <= 64 ? clientId : undefined;
	} catch {
		return undefined;
	}
}
