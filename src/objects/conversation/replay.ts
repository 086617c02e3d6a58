/** What a socket gets when it connects or asks to `sync`: the messages it missed, then who is here. */
import { LIMITS } from "../../protocol";
import { safeSend } from "../socket-io";
import { queueDeparture } from "./deliver";
import type { Room } from "./room";
import { sendFrame } from "./sockets";

/** Sends every message after `after`, in order, up to the replay cap, then says where it stopped. */
export function replay(room: Room, ws: WebSocket, after: number): void {
	const { store } = room;
	room.out.flush(); // what is pending would otherwise reach this socket twice
	const messages = store.messagesAfter(after, LIMITS.replayMessages);
	for (const message of messages) safeSend(ws, JSON.stringify({ type: "message.created", message }));
	const lastSentSeq = messages.at(-1)?.seq ?? after;
	if (lastSentSeq < store.lastSeq) {
		sendFrame(ws, { type: "replay.truncated", lastSentSeq, lastSeq: store.lastSeq });
	}
}

/** Tells the others a user came online, and the newcomer who is online already (`online`: before it joined). */
export function announceArrival(room: Room, ws: WebSocket, userId: string, online: Set<string>): void {
	for (const other of online)
		if (other !== userId) sendFrame(ws, { type: "presence", userId: other, online: true });
	if (room.sockets.openOf(userId, ws).length === 0) {
		room.out.broadcast({ type: "presence", userId, online: true }, (other) => other === ws);
	}
}

/**
 * A socket closed: when it was the user's last one here, the others see them go offline, and their
 * row of the conversation list (refreshed on a schedule while they had the room open) is due now.
 */
export function announceDeparture(room: Room, ws: WebSocket, userId: string): void {
	if (room.sockets.openOf(userId, ws).length > 0) return;
	room.out.broadcast({ type: "presence", userId, online: false }, (other) => other === ws);
	queueDeparture(room, userId);
}
