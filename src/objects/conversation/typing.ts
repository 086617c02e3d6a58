/** Typing indicators: relayed to the other members' sockets, never stored, rate limited per user. */
import { AppError } from "../../errors";
import type { Room } from "./room";

export function setTyping(room: Room, userId: string, active: boolean): void {
	room.store.requireMember(userId);
	const wait = room.limiter.take(`typing:${userId}`, room.settings.typingRate);
	if (wait > 0) throw new AppError("rate_limited", "Too many typing frames", wait);
	room.out.broadcast({ type: "typing", userId, active }, (other) => room.sockets.isUsers(other, userId));
}
