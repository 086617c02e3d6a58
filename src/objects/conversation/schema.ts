/**
 * The Conversation object's SQLite schema. Each entry runs once, in order, inside
 * blockConcurrencyWhile in the constructor; never edit an entry that has shipped, append one.
 */
import { applyMigrations } from "../sqlite-schema";
import { WORK_QUEUE_SCHEMA } from "../work-queue";

export const MIGRATIONS: readonly string[] = [
	`CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
	 CREATE TABLE members (
	   user_id TEXT PRIMARY KEY,
	   role TEXT NOT NULL,
	   joined_at INTEGER NOT NULL,
	   read_seq INTEGER NOT NULL DEFAULT 0,
	   delivered_seq INTEGER NOT NULL DEFAULT 0
	 );
	 CREATE TABLE messages (
	   seq INTEGER PRIMARY KEY,
	   id TEXT NOT NULL UNIQUE,
	   sender_id TEXT NOT NULL,
	   client_id TEXT NOT NULL,
	   text TEXT,
	   attachments TEXT NOT NULL DEFAULT '[]',
	   reply_to INTEGER,
	   created_at INTEGER NOT NULL,
	   edited_at INTEGER,
	   deleted_at INTEGER,
	   UNIQUE (sender_id, client_id)
	 );`,
	// Media uploaded to this conversation (see attachments.ts), and the D1 mirror's watermarks (mirror.ts).
	`CREATE TABLE media (
	   id TEXT PRIMARY KEY,
	   uploader_id TEXT NOT NULL,
	   content_type TEXT NOT NULL,
	   size INTEGER NOT NULL,
	   width INTEGER,
	   height INTEGER,
	   created_at INTEGER NOT NULL
	 );
	 CREATE TABLE mirror_state (
	   id INTEGER PRIMARY KEY CHECK (id = 1),
	   seq INTEGER NOT NULL DEFAULT 0,
	   meta_version INTEGER NOT NULL DEFAULT 1,
	   meta_mirrored INTEGER NOT NULL DEFAULT 0,
	   failing_since INTEGER,
	   last_error TEXT
	 );
	 INSERT INTO mirror_state (id) VALUES (1);`,
	// The inbox outbox (outbox.ts): one row per message naming the members it must reach offline, and
	// each member's delivery watermark. Members of conversations created before this migration get a
	// watermark at the current lastSeq, so their conversation list is filled on the next drain.
	`CREATE TABLE inbox_outbox (seq INTEGER PRIMARY KEY, sender_id TEXT NOT NULL, offline TEXT NOT NULL);
	 CREATE TABLE inbox_sync (
	   user_id TEXT PRIMARY KEY,
	   seq INTEGER NOT NULL,
	   dirty INTEGER NOT NULL DEFAULT 0,
	   removed INTEGER NOT NULL DEFAULT 0,
	   joined_seq INTEGER NOT NULL DEFAULT 0
	 );
	 CREATE TABLE inbox_state (key TEXT PRIMARY KEY, value INTEGER NOT NULL);
	 CREATE INDEX messages_by_sender ON messages (sender_id, seq);
	 INSERT INTO inbox_sync (user_id, seq, dirty, joined_seq)
	   SELECT user_id, (SELECT COALESCE(MAX(seq), 0) FROM messages), 1, 0 FROM members;`,
	// Media being collected (unattached, past the grace period): refused as attachments from the moment
	// it is marked, deleted from R2, then forgotten (see markUnattached in attachments.ts).
	`ALTER TABLE media ADD COLUMN deleting_at INTEGER;`,
	// Each member's inbox backs off on its own: one unreachable inbox must not hold up the others.
	`ALTER TABLE inbox_sync ADD COLUMN attempts INTEGER NOT NULL DEFAULT 0;
	 ALTER TABLE inbox_sync ADD COLUMN retry_at INTEGER NOT NULL DEFAULT 0;`,
	// The WorkQueue's table of due work (work-queue.ts), which the queue used to create itself.
	WORK_QUEUE_SCHEMA,
	// Members who have the room open get their row of the conversation list on a schedule (deliver.ts):
	// when their inbox last took it, and how many devices it had. Existing members count as having one,
	// so they keep today's prompt refreshes until their inbox first says otherwise.
	`ALTER TABLE inbox_sync ADD COLUMN refreshed_at INTEGER NOT NULL DEFAULT 0;
	 ALTER TABLE inbox_sync ADD COLUMN devices INTEGER NOT NULL DEFAULT 1;`,
];

export function migrate(sql: SqlStorage): void {
	applyMigrations(sql, MIGRATIONS);
}
