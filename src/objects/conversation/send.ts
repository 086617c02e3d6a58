/**
 * The write path of a message, one door for the HTTP route and the `message.send` frame.
 *
 * Invariant: everything from reading lastSeq to writing the row, and the side effects that follow
 * (the broadcast, the inbox outbox row, the mirror's schedule), is one synchronous block: no other
 * event can interleave, so seqs are gap-free and in arrival order, and the output gate holds every
 * frame and response until the row and its outbox rows are durable.
 */
import { nanoid } from "nanoid";
import { AppError } from "../../errors";
import type { MessageRow } from "../../message-row";
import { LIMITS, type Message, type SendMessageBody } from "../../protocol";
import { resolveAttachments } from "./attachments";
import { queueDelivery } from "./deliver";
import type { Room } from "./room";

const encoder = new TextEncoder();

export interface SendResult {
	message: Message;
	duplicate: boolean;
}

export function sendMessage(
	room: Room,
	senderId: string,
	body: SendMessageBody,
	now = Date.now(),
): SendResult {
	const { store } = room;
	store.requireMember(senderId);

	// A retry of a message that was stored answers the original, whatever the rate or the body.
	const original = store.findByClientId(senderId, body.clientId);
	if (original) return { message: original, duplicate: true };

	const text = body.text ?? null;
	const attachments = body.attachments ?? [];
	if ((text === null || text.trim() === "") && attachments.length === 0) {
		throw new AppError("text_required", "A message needs non-empty text or an attachment");
	}
	if (
		text !== null &&
		text.length > LIMITS.textBytes / 3 &&
		encoder.encode(text).byteLength > LIMITS.textBytes
	) {
		throw new AppError("text_too_long", `Text is limited to ${LIMITS.textBytes} bytes of UTF-8`);
	}
	// From the object's own table: no await between reading lastSeq and writing the row.
	const resolved = resolveAttachments(store.sql, senderId, attachments);
	if (body.replyTo !== undefined && body.replyTo > store.lastSeq) {
		throw new AppError("invalid_reply_to", `replyTo ${body.replyTo} is not a message of this conversation`);
	}
	const wait = room.limiter.take(`send:${senderId}`, room.settings.sendRate, now);
	if (wait > 0) throw new AppError("rate_limited", "Too many messages; slow down", wait);

	const row: MessageRow = {
		seq: store.lastSeq + 1,
		id: `m_${nanoid(21)}`,
		sender_id: senderId,
		client_id: body.clientId,
		text,
		attachments: JSON.stringify(resolved),
		reply_to: body.replyTo ?? null,
		created_at: now,
		edited_at: null,
		deleted_at: null,
	};
	store.insertMessage(row);
	const message = store.toMessage(row);
	room.out.messageCreated(message);
	queueDelivery(room, message);
	room.mirror.messagesStored();
	return { message, duplicate: false };
}
