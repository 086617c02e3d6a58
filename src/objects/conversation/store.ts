/**
 * The Conversation object's state in SQLite, with a write-through copy of the small parts (meta,
 * members, lastSeq) in memory. The object is the only writer, so the copy cannot go stale; it is
 * rebuilt from SQLite whenever the object starts, after hibernation or eviction. Every SQL statement
 * about the conversation's meta, members, messages and settings is here.
 */
import { AppError } from "../../errors";
import {
	MESSAGE_COLUMN_NAMES,
	MESSAGE_SELECT,
	type MessageRow,
	rowToMessage,
	rowValues,
} from "../../message-row";
import type {
	ConversationType,
	ConversationView,
	Member,
	Message,
	Role,
	TenantSettings,
} from "../../protocol";

export interface ConversationMeta {
	tenantId: string;
	conversationId: string;
	type: ConversationType;
	title: string | null;
	createdAt: number;
	createdBy: string;
	/** The creator's clientId of a group created with one (members.ts answers its retries). */
	clientId?: string;
}

export interface MemberRow {
	userId: string;
	role: Role;
	joinedAt: number;
	readSeq: number;
	deliveredSeq: number;
}

/** A member's two watermarks: how far they have read, and how far their devices have received. */
export type Watermark = "read" | "delivered";
const WATERMARK_COLUMN = { read: "read_seq", delivered: "delivered_seq" } as const;
const WATERMARK_FIELD = { read: "readSeq", delivered: "deliveredSeq" } as const;

const INSERT_MESSAGE = `INSERT INTO messages (${MESSAGE_COLUMN_NAMES.join(", ")}) VALUES (${MESSAGE_COLUMN_NAMES.map(() => "?").join(", ")})`;

export class ConversationStore {
	meta: ConversationMeta | null = null;
	lastSeq = 0;
	readonly members = new Map<string, MemberRow>();
	/**
	 * Delivered watermarks moved in memory by live deliveries and not yet written (`persistDelivered`):
	 * a busy 100-member room moves 99 of them per message, so they are written once per drain instead.
	 */
	readonly #unsavedDelivered = new Set<string>();

	constructor(readonly sql: SqlStorage) {
		this.load();
	}

	private load(): void {
		const meta = this.sql
			.exec<{ value: string }>("SELECT value FROM meta WHERE key = 'conversation'")
			.toArray()[0];
		this.meta = meta ? (JSON.parse(meta.value) as ConversationMeta) : null;
		this.lastSeq = this.sql.exec<{ s: number }>("SELECT COALESCE(MAX(seq), 0) AS s FROM messages").one().s;
		this.members.clear();
		for (const row of this.sql.exec<{
			user_id: string;
			role: string;
			joined_at: number;
			read_seq: number;
			delivered_seq: number;
		}>("SELECT user_id, role, joined_at, read_seq, delivered_seq FROM members")) {
			this.members.set(row.user_id, {
				userId: row.user_id,
				role: row.role as Role,
				joinedAt: row.joined_at,
				readSeq: row.read_seq,
				deliveredSeq: row.delivered_seq,
			});
		}
	}

	/** The member, or the refusal a non-member gets: the same as for a conversation that does not exist. */
	requireMember(userId: string): MemberRow {
		const member = this.members.get(userId);
		if (!this.meta || !member) throw new AppError("conversation_not_found", "No such conversation");
		return member;
	}

	/** The conversation, or the refusal when there is none. */
	requireMeta(): ConversationMeta {
		if (!this.meta) throw new AppError("conversation_not_found", "No such conversation");
		return this.meta;
	}

	create(meta: ConversationMeta, members: { userId: string; role: Role }[]): void {
		this.sql.exec("INSERT INTO meta (key, value) VALUES ('conversation', ?)", JSON.stringify(meta));
		this.meta = meta;
		this.addMembers(members, meta.createdAt);
	}

	addMembers(members: { userId: string; role: Role }[], now: number): void {
		for (const { userId, role } of members) {
			if (this.members.has(userId)) continue;
			// A new member has read nothing yet, but owes no receipts for what came before joining.
			this.sql.exec(
				"INSERT INTO members (user_id, role, joined_at, read_seq, delivered_seq) VALUES (?, ?, ?, 0, 0)",
				userId,
				role,
				now,
			);
			this.members.set(userId, { userId, role, joinedAt: now, readSeq: 0, deliveredSeq: 0 });
		}
	}

	removeMember(userId: string): void {
		this.sql.exec("DELETE FROM members WHERE user_id = ?", userId);
		this.members.delete(userId);
	}

	setRole(userId: string, role: Role): void {
		const member = this.members.get(userId);
		if (!member) return;
		this.sql.exec("UPDATE members SET role = ? WHERE user_id = ?", role, userId);
		member.role = role;
	}

	/** Moves the member's watermark forward (never back); answers whether it moved. */
	advance(watermark: Watermark, userId: string, seq: number): boolean {
		const member = this.members.get(userId);
		const field = WATERMARK_FIELD[watermark];
		if (!member || seq <= member[field]) return false;
		this.sql.exec(`UPDATE members SET ${WATERMARK_COLUMN[watermark]} = ? WHERE user_id = ?`, seq, userId);
		member[field] = seq;
		return true;
	}

	/**
	 * A live delivery: moves the member's delivered watermark in memory only (answers whether it moved);
	 * `persistDelivered` writes it. Lost with the object's memory, it is recomputed from the inbox
	 * outbox's rows (deliver.ts), which are durable.
	 */
	deliveredLive(userId: string, seq: number): boolean {
		const member = this.members.get(userId);
		if (!member || seq <= member.deliveredSeq) return false;
		member.deliveredSeq = seq;
		this.#unsavedDelivered.add(userId);
		return true;
	}

	/** Writes the delivered watermarks that live deliveries moved. */
	persistDelivered(): void {
		for (const userId of this.#unsavedDelivered) {
			const member = this.members.get(userId);
			if (member) {
				this.sql.exec(
					"UPDATE members SET delivered_seq = MAX(delivered_seq, ?) WHERE user_id = ?",
					member.deliveredSeq,
					userId,
				);
			}
		}
		this.#unsavedDelivered.clear();
	}

	/** How many messages `userId` sent after `seq` (served by the messages_by_sender index). */
	countSentAfter(userId: string, seq: number): number {
		return this.sql
			.exec<{ n: number }>("SELECT COUNT(*) AS n FROM messages WHERE sender_id = ? AND seq > ?", userId, seq)
			.one().n;
	}

	// ── settings ───────────────────────────────────────────────────────────────────────────────────
	/** The tenant settings last seen by this conversation, as JSON, or null. */
	savedSettings(): string | null {
		return (
			this.sql.exec<{ value: string }>("SELECT value FROM meta WHERE key = 'settings'").toArray()[0]?.value ??
			null
		);
	}

	saveSettings(settings: TenantSettings): void {
		this.sql.exec(
			"INSERT INTO meta (key, value) VALUES ('settings', ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
			JSON.stringify(settings),
		);
	}

	// ── messages ───────────────────────────────────────────────────────────────────────────────────
	insertMessage(row: MessageRow): void {
		this.sql.exec(INSERT_MESSAGE, ...rowValues(row));
		this.lastSeq = row.seq;
	}

	findByClientId(senderId: string, clientId: string): Message | null {
		const row = this.sql
			.exec<MessageRow>(
				`SELECT ${MESSAGE_SELECT} FROM messages WHERE sender_id = ? AND client_id = ?`,
				senderId,
				clientId,
			)
			.toArray()[0];
		return row ? this.toMessage(row) : null;
	}

	/** The messages with the given seqs, by seq (100 bound parameters per statement at most). */
	messagesBySeq(seqs: Set<number>): Map<number, Message> {
		const found = new Map<number, Message>();
		const all = [...seqs];
		for (let i = 0; i < all.length; i += 100) {
			const chunk = all.slice(i, i + 100);
			const rows = this.sql
				.exec<MessageRow>(
					`SELECT ${MESSAGE_SELECT} FROM messages WHERE seq IN (${chunk.map(() => "?").join(", ")})`,
					...chunk,
				)
				.toArray();
			for (const row of rows) found.set(row.seq, this.toMessage(row));
		}
		return found;
	}

	/** Messages with seq > after, ascending. */
	messagesAfter(after: number, limit: number): Message[] {
		return this.rowsAfter(after, limit).map((row) => this.toMessage(row));
	}

	/** Stored rows with seq > after, ascending, as the D1 mirror copies them. */
	rowsAfter(after: number, limit: number): MessageRow[] {
		return this.sql
			.exec<MessageRow>(
				`SELECT ${MESSAGE_SELECT} FROM messages WHERE seq > ? ORDER BY seq ASC LIMIT ?`,
				after,
				limit,
			)
			.toArray();
	}

	/** Messages with seq < before, descending. */
	messagesBefore(before: number, limit: number): Message[] {
		return this.sql
			.exec<MessageRow>(
				`SELECT ${MESSAGE_SELECT} FROM messages WHERE seq < ? ORDER BY seq DESC LIMIT ?`,
				before,
				limit,
			)
			.toArray()
			.map((row) => this.toMessage(row));
	}

	/** When the first message after `seq` was stored (ms since the epoch), or null when there is none. */
	createdAtAfter(seq: number): number | null {
		return (
			this.sql
				.exec<{ created_at: number }>(
					"SELECT created_at FROM messages WHERE seq > ? ORDER BY seq LIMIT 1",
					seq,
				)
				.toArray()[0]?.created_at ?? null
		);
	}

	toMessage(row: MessageRow): Message {
		return rowToMessage(row, this.meta?.conversationId ?? "");
	}

	view(): ConversationView {
		const meta = this.requireMeta();
		const members: Member[] = [...this.members.values()]
			.sort((a, b) => a.joinedAt - b.joinedAt || (a.userId < b.userId ? -1 : 1))
			.map((m) => ({
				userId: m.userId,
				role: m.role,
				joinedAt: new Date(m.joinedAt).toISOString(),
				readSeq: m.readSeq,
				deliveredSeq: m.deliveredSeq,
			}));
		return {
			id: meta.conversationId,
			type: meta.type,
			title: meta.title,
			createdAt: new Date(meta.createdAt).toISOString(),
			createdBy: meta.createdBy,
			lastSeq: this.lastSeq,
			members,
		};
	}
}
