import { AppError } from "../../errors";
import type { Conversation } from "./conversation";
import { markDelivered, queueIndexUpdate } from "./deliver";

/** Moves the member's read watermark forward (never back) and tells the room when it moved. */
export function markRead(room: Conversation, userId: string, seq: number): void {
	if (!room.store.members.has(userId)) throw new AppError("conversation_not_found", "No such conversation");
	if (seq > room.store.lastSeq) {
		throw new AppError("invalid_seq", `seq ${seq} is beyond the last message (${room.store.lastSeq})`);
	}
	if (room.store.advanceRead(userId, seq)) {
		// What a member has read has reached one of their devices: read implies delivered.
		markDelivered(room, userId, seq);
		room.out.broadcast({ type: "read.updated", userId, seq });
		// Every device of the reader learns it through the inbox (unread counts, conversation.updated).
		queueIndexUpdate(room, [userId]);
	}
}
