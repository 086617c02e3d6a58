/** The Inbox object's state in SQLite: undelivered entries, the conversation index, pending receipts. */
import { TUNING } from "../../config";
import type { ConversationSummary, InboxEntry, Message } from "../../protocol";
import type { InboxBatch, InboxOwner } from "./batch";

export interface Applied {
	entries: InboxEntry[];
	/** The new index row, a removal, or nothing when the snapshot was not newer than the one held. */
	index: { conversationId: string; summary: ConversationSummary | null } | null;
}

export interface ConversationPage {
	conversations: ConversationSummary[];
	nextCursor: string | null;
}

export class InboxStore {
	#owner: InboxOwner | null = null;

	constructor(private readonly sql: SqlStorage) {
		const row = this.sql.exec<{ value: string }>("SELECT value FROM meta WHERE key = 'owner'").toArray()[0];
		this.#owner = row ? (JSON.parse(row.value) as InboxOwner) : null;
	}

	/** The tenant and user this inbox belongs to, learned from the first call that names them. */
	get owner(): InboxOwner | null {
		return this.#owner;
	}

	rememberOwner(owner: InboxOwner): void {
		if (this.#owner) return;
		this.sql.exec("INSERT OR REPLACE INTO meta (key, value) VALUES ('owner', ?)", JSON.stringify(owner));
		this.#owner = { tenantId: owner.tenantId, userId: owner.userId };
	}

	/** Stores what is new in a batch; entries at or below the conversation's mark are retries and skipped. */
	apply(batch: InboxBatch, now: number): Applied {
		const applied: Applied = { entries: [], index: null };
		const mark =
			this.sql
				.exec<{ seq: number }>("SELECT seq FROM entry_marks WHERE conversation_id = ?", batch.conversationId)
				.toArray()[0]?.seq ?? 0;
		let top = mark;
		for (const message of batch.entries) {
			if (message.seq <= top) continue;
			const cursor = this.sql
				.exec<{ cursor: number }>(
					"INSERT INTO entries (conversation_id, seq, message, created_at) VALUES (?, ?, ?, ?) RETURNING cursor",
					batch.conversationId,
					message.seq,
					JSON.stringify(message),
					now,
				)
				.one().cursor;
			applied.entries.push({ cursor, conversationId: batch.conversationId, message });
			top = message.seq;
		}
		if (top > mark) {
			this.sql.exec(
				"INSERT INTO entry_marks (conversation_id, seq) VALUES (?, ?) ON CONFLICT (conversation_id) DO UPDATE SET seq = excluded.seq",
				batch.conversationId,
				top,
			);
		}

		const held = this.sql
			.exec<{ version: number }>(
				"SELECT version FROM conversations WHERE conversation_id = ?",
				batch.conversationId,
			)
			.toArray()[0];
		if (!held || held.version < batch.version) {
			const summary = batch.index;
			this.sql.exec(
				`INSERT INTO conversations (conversation_id, version, removed, updated_at, summary) VALUES (?, ?, ?, ?, ?)
				 ON CONFLICT (conversation_id) DO UPDATE SET version = excluded.version, removed = excluded.removed,
				   updated_at = excluded.updated_at, summary = excluded.summary`,
				batch.conversationId,
				batch.version,
				summary ? 0 : 1,
				summary ? Date.parse(summary.updatedAt) : 0,
				summary ? JSON.stringify(summary) : "null",
			);
			// A removal of a conversation the inbox never listed tells no device anything.
			if (summary || (held && held.version > 0)) {
				applied.index = { conversationId: batch.conversationId, summary };
			}
		}
		return applied;
	}

	entriesAfter(after: number, limit: number): InboxEntry[] {
		return this.sql
			.exec<{ cursor: number; conversation_id: string; message: string }>(
				"SELECT cursor, conversation_id, message FROM entries WHERE cursor > ? ORDER BY cursor ASC LIMIT ?",
				after,
				limit,
			)
			.toArray()
			.map((row) => ({
				cursor: row.cursor,
				conversationId: row.conversation_id,
				message: JSON.parse(row.message) as Message,
			}));
	}

	/**
	 * The entries after `after` as `inbox.entry` frames, ready to send: built around the message's JSON
	 * as stored, so a device's catch-up never parses and re-serializes its backlog. Ascending; at most
	 * `limit`; with the cursor of the last one.
	 */
	entryFramesAfter(after: number, limit: number): { frames: string[]; lastCursor: number | null } {
		const frames: string[] = [];
		let lastCursor: number | null = null;
		for (const row of this.sql.exec<{ cursor: number; conversation_id: string; message: string }>(
			"SELECT cursor, conversation_id, message FROM entries WHERE cursor > ? ORDER BY cursor ASC LIMIT ?",
			after,
			limit,
		)) {
			// The same JSON as JSON.stringify({type, cursor, conversationId, message}) would give.
			frames.push(
				`{"type":"inbox.entry","cursor":${row.cursor},"conversationId":${JSON.stringify(row.conversation_id)},"message":${row.message}}`,
			);
			lastCursor = row.cursor;
		}
		return { frames, lastCursor };
	}

	/** The highest cursor ever handed out (0 when none), so a device knows where the inbox stands. */
	lastCursor(): number {
		return (
			this.sql.exec<{ seq: number }>("SELECT seq FROM sqlite_sequence WHERE name = 'entries'").toArray()[0]
				?.seq ?? 0
		);
	}

	/**
	 * Drops the entries through `cursor` and queues a delivered receipt for the highest seq of each
	 * conversation among them; answers whether a receipt was queued.
	 */
	ack(cursor: number): boolean {
		const acked = this.sql
			.exec<{ conversation_id: string; seq: number }>(
				"SELECT conversation_id, MAX(seq) AS seq FROM entries WHERE cursor <= ? GROUP BY conversation_id",
				cursor,
			)
			.toArray();
		if (acked.length === 0) return false;
		for (const { conversation_id, seq } of acked) {
			this.sql.exec(
				`INSERT INTO receipts (conversation_id, seq) VALUES (?, ?)
				 ON CONFLICT (conversation_id) DO UPDATE SET seq = MAX(seq, excluded.seq)`,
				conversation_id,
				seq,
			);
		}
		this.sql.exec("DELETE FROM entries WHERE cursor <= ?", cursor);
		return true;
	}

	pendingReceipts(limit: number): { conversationId: string; seq: number }[] {
		return this.sql
			.exec<{ conversation_id: string; seq: number }>(
				"SELECT conversation_id, seq FROM receipts ORDER BY conversation_id LIMIT ?",
				limit,
			)
			.toArray()
			.map((row) => ({ conversationId: row.conversation_id, seq: row.seq }));
	}

	/** Clears a receipt the Conversation confirmed, unless a later ack raised it meanwhile. */
	confirmReceipt(conversationId: string, seq: number): void {
		this.sql.exec("DELETE FROM receipts WHERE conversation_id = ? AND seq = ?", conversationId, seq);
	}

	hasReceipts(): boolean {
		return this.sql.exec<{ n: number }>("SELECT EXISTS (SELECT 1 FROM receipts) AS n").one().n === 1;
	}

	/** Drops unacked entries stored at or before `cutoff`; answers how many. */
	expireEntries(cutoff: number): number {
		return this.sql.exec("DELETE FROM entries WHERE created_at <= ?", cutoff).rowsWritten;
	}

	/** When the oldest unacked entry expires, or null when there is none. */
	nextExpiry(): number | null {
		const oldest = this.sql.exec<{ at: number | null }>("SELECT MIN(created_at) AS at FROM entries").one().at;
		return oldest === null ? null : oldest + TUNING.inboxRetentionMs;
	}

	/** The conversation list by latest activity; the cursor is `<updatedAt>.<conversationId>` of the last row. */
	listConversations(cursor: string | undefined, limit: number): ConversationPage {
		let rows: { conversation_id: string; updated_at: number; summary: string }[];
		if (cursor) {
			const dot = cursor.indexOf(".");
			const at = Number(cursor.slice(0, dot));
			const id = cursor.slice(dot + 1);
			rows = this.sql
				.exec<{ conversation_id: string; updated_at: number; summary: string }>(
					`SELECT conversation_id, updated_at, summary FROM conversations
					 WHERE removed = 0 AND (updated_at < ? OR (updated_at = ? AND conversation_id < ?))
					 ORDER BY updated_at DESC, conversation_id DESC LIMIT ?`,
					at,
					at,
					id,
					limit + 1,
				)
				.toArray();
		} else {
			rows = this.sql
				.exec<{ conversation_id: string; updated_at: number; summary: string }>(
					`SELECT conversation_id, updated_at, summary FROM conversations WHERE removed = 0
					 ORDER BY updated_at DESC, conversation_id DESC LIMIT ?`,
					limit + 1,
				)
				.toArray();
		}
		const page = rows.slice(0, limit);
		const last = page.at(-1);
		return {
			conversations: page.map((row) => JSON.parse(row.summary) as ConversationSummary),
			nextCursor: rows.length > limit && last ? `${last.updated_at}.${last.conversation_id}` : null,
		};
	}

	/** Test-only fault injection (see src/test-hooks.ts): answers whether this call should fail. */
	takeInjectedFault(): boolean {
		const row = this.sql
			.exec<{ value: string }>("SELECT value FROM meta WHERE key = 'fail_applies'")
			.toArray()[0];
		const left = row ? Number(row.value) : 0;
		if (left <= 0) return false;
		this.sql.exec("UPDATE meta SET value = ? WHERE key = 'fail_applies'", String(left - 1));
		return true;
	}

	injectFaults(count: number): void {
		this.sql.exec("INSERT OR REPLACE INTO meta (key, value) VALUES ('fail_applies', ?)", String(count));
	}
}
