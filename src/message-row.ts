/**
 * A message as stored: the same columns in the Conversation object's SQLite and in D1's mirror, and
 * the one mapping from such a row to the message on the wire.
 */
import type { Attachment, Message } from "./protocol";

export type MessageRow = {
	seq: number;
	id: string;
	sender_id: string;
	client_id: string;
	text: string | null;
	attachments: string;
	reply_to: number | null;
	created_at: number;
	edited_at: number | null;
	deleted_at: number | null;
};

export const MESSAGE_COLUMNS =
	"seq, id, sender_id, client_id, text, attachments, reply_to, created_at, edited_at, deleted_at";

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

export function rowToMessage(row: MessageRow, conversationId: string): Message {
	return {
		id: row.id,
		conversationId,
		seq: row.seq,
		senderId: row.sender_id,
		clientId: row.client_id,
		text: row.text,
		attachments: JSON.parse(row.attachments) as Attachment[],
		replyTo: row.reply_to,
		createdAt: iso(row.created_at) as string,
		editedAt: iso(row.edited_at),
		deletedAt: iso(row.deleted_at),
	};
}
