/**
 * The inbox outbox: what the Conversation object still owes its members' Inbox objects, written in
 * the same synchronous block as the change it describes and drained from the alarm (deliver.ts).
 *
 * Why this shape: a message costs one row, `inbox_outbox(seq, sender_id, offline)`, naming the members that had
 * no open socket when it was stored, so a send in a 100-member room is one small insert rather than
 * one per member. Each member's progress is a watermark in `inbox_sync`: `seq`, the last message its
 * inbox has confirmed, and `dirty`, a counter bumped by every other change to its row of the
 * conversation list (created, added, removed, read, role). A member whose watermark is below lastSeq
 * or whose counter is non-zero is owed a batch. A message row is dropped once every watermark passed
 * it. `joined_seq` is lastSeq when the member joined: unread counts start there. `refreshed_at` is
 * when the member's inbox last took their row, and `devices` how many device sockets it said it had
 * then: deliver.ts refreshes the rows of members who have the room open on a schedule of their own.
 */

export interface SyncRow {
	userId: string;
	seq: number;
	dirty: number;
	removed: boolean;
	joinedSeq: number;
	/** Failed deliveries in a row, and when the next one may be tried (ms since the epoch). */
	attempts: number;
	retryAt: number;
	/** When the member's inbox last took their row (ms since the epoch; 0: never). */
	refreshedAt: number;
	/** How many device sockets the member's inbox had open when it last took their row. */
	devices: number;
}

export interface OutboxRow {
	seq: number;
	senderId: string;
	offline: Set<string>;
}

export class InboxOutbox {
	constructor(private readonly sql: SqlStorage) {}

	/** Records a stored message and the members it must reach through their inbox. */
	messageStored(seq: number, senderId: string, offline: string[]): void {
		this.sql.exec(
			"INSERT INTO inbox_outbox (seq, sender_id, offline) VALUES (?, ?, ?)",
			seq,
			senderId,
			JSON.stringify(offline),
		);
	}

	/**
	 * Marks the users' rows of the conversation list stale. A user without a watermark (new member)
	 * starts at `lastSeq`: the inbox owes them no entries for what came before they joined.
	 */
	touch(userIds: Iterable<string>, lastSeq: number): void {
		for (const userId of userIds) {
			this.sql.exec(
				`INSERT INTO inbox_sync (user_id, seq, dirty, removed, joined_seq) VALUES (?, ?, 1, 0, ?)
				 ON CONFLICT (user_id) DO UPDATE SET dirty = dirty + 1, removed = 0,
				   joined_seq = CASE WHEN removed = 1 THEN excluded.joined_seq ELSE joined_seq END`,
				userId,
				lastSeq,
				lastSeq,
			);
		}
	}

	/** The user left or was removed: their inbox drops the conversation from the list. */
	removed(userId: string, lastSeq: number): void {
		this.sql.exec(
			`INSERT INTO inbox_sync (user_id, seq, dirty, removed, joined_seq) VALUES (?, ?, 1, 1, ?)
			 ON CONFLICT (user_id) DO UPDATE SET dirty = dirty + 1, removed = 1`,
			userId,
			lastSeq,
			lastSeq,
		);
	}

	/** Every member whose inbox is owed something. */
	pending(lastSeq: number): SyncRow[] {
		return this.sql
			.exec<{
				user_id: string;
				seq: number;
				dirty: number;
				removed: number;
				joined_seq: number;
				attempts: number;
				retry_at: number;
				refreshed_at: number;
				devices: number;
			}>(
				`SELECT user_id, seq, dirty, removed, joined_seq, attempts, retry_at, refreshed_at, devices
				 FROM inbox_sync WHERE seq < ? OR dirty > 0`,
				lastSeq,
			)
			.toArray()
			.map((row) => ({
				userId: row.user_id,
				seq: row.seq,
				dirty: row.dirty,
				removed: row.removed === 1,
				joinedSeq: row.joined_seq,
				attempts: row.attempts,
				retryAt: row.retry_at,
				refreshedAt: row.refreshed_at,
				devices: row.devices,
			}));
	}

	/** Lifts every member's backoff and refresh schedule: everything owed is due now (an operator's "retry now", and the tests'). */
	retryAllNow(): void {
		this.sql.exec(
			"UPDATE inbox_sync SET retry_at = 0, refreshed_at = 0 WHERE retry_at > 0 OR refreshed_at > 0",
		);
	}

	/** The member's inbox refused or could not be reached: try it again after `retryAt`. */
	failed(userId: string, attempts: number, retryAt: number): void {
		this.sql.exec(
			"UPDATE inbox_sync SET attempts = ?, retry_at = ? WHERE user_id = ?",
			attempts,
			retryAt,
			userId,
		);
	}

	rowsAfter(seq: number, limit: number): OutboxRow[] {
		return this.sql
			.exec<{ seq: number; sender_id: string; offline: string }>(
				"SELECT seq, sender_id, offline FROM inbox_outbox WHERE seq > ? ORDER BY seq ASC LIMIT ?",
				seq,
				limit,
			)
			.toArray()
			.map((row) => ({
				seq: row.seq,
				senderId: row.sender_id,
				offline: new Set(JSON.parse(row.offline) as string[]),
			}));
	}

	/**
	 * The inbox took everything through `upto` and the row as of `dirty`, at `now`, and has `devices`
	 * device sockets open. A change made while the call was in flight bumped `dirty`, so the row stays
	 * owed; a confirmed removal forgets the user.
	 */
	confirm(userId: string, upto: number, dirty: number, now: number, devices: number): void {
		this.sql.exec(
			`UPDATE inbox_sync SET seq = MAX(seq, ?), dirty = CASE WHEN dirty = ? THEN 0 ELSE dirty END,
			   attempts = 0, retry_at = 0, refreshed_at = ?, devices = ? WHERE user_id = ?`,
			upto,
			dirty,
			now,
			devices,
			userId,
		);
		this.sql.exec("DELETE FROM inbox_sync WHERE user_id = ? AND removed = 1 AND dirty = 0", userId);
	}

	/** Drops the message rows every member's inbox has passed. */
	prune(): void {
		this.sql.exec(
			"DELETE FROM inbox_outbox WHERE seq <= (SELECT COALESCE(MIN(seq), 9007199254740991) FROM inbox_sync)",
		);
	}

	/** A number that grows with every drain, so an inbox can tell a newer index snapshot from an older one. */
	nextVersion(): number {
		return this.sql
			.exec<{ value: number }>(
				`INSERT INTO inbox_state (key, value) VALUES ('version', 1)
				 ON CONFLICT (key) DO UPDATE SET value = value + 1 RETURNING value`,
			)
			.one().value;
	}
}
