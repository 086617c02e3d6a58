/** The read mark, one door for `POST …/read` and the `read.mark` frame. */
import { AppError } from "../../errors";
import { markDelivered, queueIndexUpdate } from "./deliver";
import type { Room } from "./room";

/** Moves the member's read watermark forward (never back) and tells the room when it moved. */
export function markRead(room: Room, userId: string, seq: number): void {
	const { store } = room;
	store.requireMember(userId);
	if (seq > store.lastSeq) {
		throw new AppError("invalid_seq", `seq ${seq} is beyond the last message (${store.lastSeq})`);
	}
	if (store.advance("read", userId, seq)) {
		// What a member has read has reached one of their devices: read implies delivered.
		markDelivered(room, userId, seq);
		room.out.broadcast({ type: "read.updated", userId, seq });
		// Every device of the reader learns it through the inbox (unread counts, conversation.updated).
		queueIndexUpdate(room, [userId]);
	}
}
