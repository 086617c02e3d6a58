/**
 * The Conversation object's state in SQLite, with a write-through copy of the small parts (meta,
 * members, lastSeq) in memory. The object is the only writer, so the copy cannot go stale; it is
 * rebuilt from SQLite whenever the object starts, after hibernation or eviction.
 */
import { MESSAGE_COLUMNS, type MessageRow, rowToMessage } from "../../message-row";
import type { Attachment, ConversationView, Member, Message, Role } from "../../protocol";

export interface ConversationMeta {
	tenantId: string;
	conversationId: string;
	type: "direct" | "group";
	title: string | null;
	createdAt: number;
	createdBy: string;
}

interface MemberRow {
	userId: string;
	role: Role;
	joinedAt: number;
	readSeq: number;
	deliveredSeq: number;
}

export class ConversationStore {
	meta: ConversationMeta | null = null;
	lastSeq = 0;
	readonly members = new Map<string, MemberRow>();

	/** Public for the modules of this object that keep their own tables (attachments, mirror). */
	/** `load: false` for an object whose storage holds no conversation (no tables to read). */
	constructor(
		readonly sql: SqlStorage,
		load = true,
	) {
		if (load) this.load();
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

	/** Moves the member's delivered watermark forward; answers whether it moved. */
	advanceDelivered(userId: string, seq: number): boolean {
		const member = this.members.get(userId);
		if (!member || seq <= member.deliveredSeq) return false;
		this.sql.exec("UPDATE members SET delivered_seq = ? WHERE user_id = ?", seq, userId);
		member.deliveredSeq = seq;
		return true;
	}

	/** How many messages `userId` sent after `seq` (served by the messages_by_sender index). */
	countSentAfter(userId: string, seq: number): number {
		return this.sql
			.exec<{ n: number }>("SELECT COUNT(*) AS n FROM messages WHERE sender_id = ? AND seq > ?", userId, seq)
			.one().n;
	}

	/** Moves the member's read watermark forward; answers whether it moved. */
	advanceRead(userId: string, seq: number): boolean {
		const member = this.members.get(userId);
		if (!member || seq <= member.readSeq) return false;
		this.sql.exec("UPDATE members SET read_seq = ? WHERE user_id = ?", seq, userId);
		member.readSeq = seq;
		return true;
	}

	insertMessage(message: {
		seq: number;
		id: string;
		senderId: string;
		clientId: string;
		text: string | null;
		attachments: Attachment[];
		replyTo: number | null;
		createdAt: number;
	}): void {
		this.sql.exec(
			`INSERT INTO messages (seq, id, sender_id, client_id, text, attachments, reply_to, created_at)
			 VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
			message.seq,
			message.id,
			message.senderId,
			message.clientId,
			message.text,
			JSON.stringify(message.attachments),
			message.replyTo,
			message.createdAt,
		);
		this.lastSeq = message.seq;
	}

	findByClientId(senderId: string, clientId: string): Message | null {
		const row = this.sql
			.exec<MessageRow>(
				`SELECT ${MESSAGE_COLUMNS} FROM messages WHERE sender_id = ? AND client_id = ?`,
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
					`SELECT ${MESSAGE_COLUMNS} FROM messages WHERE seq IN (${chunk.map(() => "?").join(", ")})`,
					...chunk,
				)
				.toArray();
			for (const row of rows) found.set(row.seq, this.toMessage(row));
		}
		return found;
	}

	/** Messages with seq > after, ascending. */
	messagesAfter(after: number, limit: number): Message[] {
		return this.sql
			.exec<MessageRow>(
				`SELECT ${MESSAGE_COLUMNS} FROM messages WHERE seq > ? ORDER BY seq ASC LIMIT ?`,
				after,
				limit,
			)
			.toArray()
			.map((row) => this.toMessage(row));
	}

	/** Messages with seq < before, descending. */
	messagesBefore(before: number, limit: number): Message[] {
		return this.sql
			.exec<MessageRow>(
				`SELECT ${MESSAGE_COLUMNS} FROM messages WHERE seq < ? ORDER BY seq DESC LIMIT ?`,
				before,
				limit,
			)
			.toArray()
			.map((row) => this.toMessage(row));
	}

	toMessage(row: MessageRow): Message {
		return rowToMessage(row, this.meta?.conversationId ?? "");
	}

	view(): ConversationView {
		const meta = this.meta as ConversationMeta;
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
