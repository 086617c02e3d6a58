/**
 * A message as stored, declared once: the same columns in the Conversation object's SQLite and in D1's
 * mirror (which adds tenant_id and conversation_id), and the one mapping from such a row to the
 * message on the wire. A new message field is a column here, a migration of each store and a field of
 * `Message` in src/protocol.ts; the `satisfies` below fails to compile until all of them agree, and a
 * test checks both stores' tables hold every column.
 */
import type { Message } from "./protocol";

/** How a column's SQL value maps to the wire: as is, JSON text, or ms since the epoch → ISO 8601. */
type Kind = "value" | "json" | "time" | "time?";

export const MESSAGE_COLUMNS = {
	seq: { column: "seq", kind: "value" },
	id: { column: "id", kind: "value" },
	senderId: { column: "sender_id", kind: "value" },
	clientId: { column: "client_id", kind: "value" },
	text: { column: "text", kind: "value" },
	attachments: { column: "attachments", kind: "json" },
	replyTo: { column: "reply_to", kind: "value" },
	createdAt: { column: "created_at", kind: "time" },
	editedAt: { column: "edited_at", kind: "time?" },
	deletedAt: { column: "deleted_at", kind: "time?" },
} as const satisfies Record<Exclude<keyof Message, "conversationId">, { column: string; kind: Kind }>;

type Fields = typeof MESSAGE_COLUMNS;
type SqlValue<F extends keyof Fields> = Fields[F]["kind"] extends "json"
	? string
	: Fields[F]["kind"] extends "time"
		? number
		: Fields[F]["kind"] extends "time?"
			? number | null
			: Message[F];

/** A row of either store's messages table, by SQL column name. */
export type MessageRow = { [F in keyof Fields as Fields[F]["column"]]: SqlValue<F> };
export type MessageColumn = keyof MessageRow;

const FIELDS = Object.entries(MESSAGE_COLUMNS) as [keyof Fields, { column: MessageColumn; kind: Kind }][];

/** The column names, in declaration order. */
export const MESSAGE_COLUMN_NAMES: readonly MessageColumn[] = FIELDS.map(([, spec]) => spec.column);

/** For `SELECT ${MESSAGE_SELECT} FROM messages`. */
export const MESSAGE_SELECT = MESSAGE_COLUMN_NAMES.join(", ");

/** The row's values in column order, for an INSERT of MESSAGE_COLUMN_NAMES. */
export function rowValues(row: MessageRow): (string | number | null)[] {
	return MESSAGE_COLUMN_NAMES.map((column) => row[column]);
}

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

export function rowToMessage(row: MessageRow, conversationId: string): Message {
	const message: Record<string, unknown> = { conversationId };
	for (const [field, { column, kind }] of FIELDS) {
		const value = row[column];
		message[field] =
			kind === "json" ? JSON.parse(value as string) : kind === "value" ? value : iso(value as number | null);
	}
	return message as Message;
}
