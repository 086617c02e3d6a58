/**
 * The write path of a message. Everything from reading lastSeq to writing the row is synchronous:
 * no other event can interleave, so seqs are gap-free and in arrival order, and the output gate
 * holds every frame and response until the row is durable.
 */
import { nanoid } from "nanoid";
import { AppError } from "../../errors";
import { LIMITS, type Message, type SendMessageBody, type TenantSettings } from "../../protocol";
import { resolveAttachments } from "./attachments";
import type { RateLimiter } from "./rate-limiter";
import type { ConversationStore } from "./store";

const encoder = new TextEncoder();

export interface SendResult {
	message: Message;
	duplicate: boolean;
}

export function sendMessage(
	store: ConversationStore,
	limiter: RateLimiter,
	settings: TenantSettings,
	senderId: string,
	body: SendMessageBody,
	now = Date.now(),
): SendResult {
	if (!store.members.has(senderId)) throw new AppError("conversation_not_found", "No such conversation");

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
	const wait = limiter.take(`send:${senderId}`, settings.sendRate, now);
	if (wait > 0) throw new AppError("rate_limited", "Too many messages; slow down", wait);

	const row = {
		seq: store.lastSeq + 1,
		id: `m_${nanoid(21)}`,
		senderId,
		clientId: body.clientId,
		text,
		attachments: resolved,
		replyTo: body.replyTo ?? null,
		createdAt: now,
	};
	store.insertMessage(row);
	const message: Message = {
		id: row.id,
		conversationId: store.meta?.conversationId ?? "",
		seq: row.seq,
		senderId,
		clientId: row.clientId,
		text,
		attachments: resolved,
		replyTo: row.replyTo,
		createdAt: new Date(now).toISOString(),
		editedAt: null,
		deletedAt: null,
	};
	return { message, duplicate: false };
}
