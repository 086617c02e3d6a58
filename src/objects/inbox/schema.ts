/**
 * The Inbox object's SQLite schema. Each entry runs once, in order, inside blockConcurrencyWhile in
 * the constructor; never edit an entry that has shipped, append one.
 */
import { applyMigrations } from "../sqlite-schema";
import { WORK_QUEUE_SCHEMA } from "../work-queue";

export const MIGRATIONS: readonly string[] = [
	// entries: undelivered messages, kept until a device acks them or they expire (INBOX_LIMITS).
	// AUTOINCREMENT so a cursor is never reused after the entries before it were acked.
	// entry_marks: the highest seq taken per conversation; the Conversation sends each member's entries
	// in seq order and moves on only after an inbox confirmed, so a seq at or below the mark is a retry.
	// conversations: the user's conversation index; `removed` keeps a tombstone so that an older
	// snapshot still in flight cannot bring back a conversation the user left.
	// receipts: the delivered seqs a device acked that the Conversation objects have not confirmed yet.
	`CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
	 CREATE TABLE entries (
	   cursor INTEGER PRIMARY KEY AUTOINCREMENT,
	   conversation_id TEXT NOT NULL,
	   seq INTEGER NOT NULL,
	   message TEXT NOT NULL,
	   created_at INTEGER NOT NULL
	 );
	 CREATE INDEX entries_created_at ON entries (created_at);
	 CREATE TABLE entry_marks (conversation_id TEXT PRIMARY KEY, seq INTEGER NOT NULL);
	 CREATE TABLE conversations (
	   conversation_id TEXT PRIMARY KEY,
	   version INTEGER NOT NULL,
	   removed INTEGER NOT NULL DEFAULT 0,
	   updated_at INTEGER NOT NULL,
	   summary TEXT NOT NULL
	 );
	 CREATE INDEX conversations_by_activity ON conversations (updated_at DESC, conversation_id DESC);
	 CREATE TABLE receipts (conversation_id TEXT PRIMARY KEY, seq INTEGER NOT NULL);`,
	// The WorkQueue's table of due work (work-queue.ts), which the queue used to create itself.
	WORK_QUEUE_SCHEMA,
];

export function migrate(sql: SqlStorage): void {
	applyMigrations(sql, MIGRATIONS);
}
