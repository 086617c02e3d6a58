/**
 * The history mirror in D1: what a Conversation object's drain writes, and what search and export
 * read. The Conversation object stays the source of truth; these rows may lag it, never lead it.
 *
 * Raw SQL rather than drizzle's builders here: every statement must stay under D1's 100 bound
 * parameters, so the multi-row inserts are sized by hand, and FTS5's MATCH has no builder.
 */

import { AppError } from "../errors";
import { MESSAGE_COLUMN_NAMES, type MessageRow, rowToMessage, rowValues } from "../message-row";
import type { Message, Role, SearchQuery } from "../protocol";

/** D1 (like DO SQLite) refuses statements with more than 100 bound parameters. */
export const MAX_BOUND_PARAMETERS = 100;

/** The mirror's message columns: the conversation's own (src/message-row.ts), keyed by tenant and conversation. */
const MESSAGE_COLUMNS = ["tenant_id", "conversation_id", ...MESSAGE_COLUMN_NAMES] as const;
const MEMBER_COLUMNS = ["tenant_id", "conversation_id", "user_id", "role", "joined_at"] as const;

export interface MirrorConversation {
	conversationId: string;
	type: "direct" | "group";
	title: string | null;
	createdBy: string;
	createdAt: number;
	lastSeq: number;
}

export interface MirrorMember {
	userId: string;
	role: Role;
	joinedAt: number;
}

export interface MirrorBatch {
	tenantId: string;
	conversation: MirrorConversation;
	/** The complete member set, when it changed since the last drain; null to leave D1's as it is. */
	members: MirrorMember[] | null;
	/** Rows as the conversation stores them. */
	messages: MessageRow[];
}

/** Splits rows so that each statement binds at most MAX_BOUND_PARAMETERS values. */
export function chunkRows<T>(rows: readonly T[], columnsPerRow: number): T[][] {
	const perStatement = Math.floor(MAX_BOUND_PARAMETERS / columnsPerRow);
	const chunks: T[][] = [];
	for (let i = 0; i < rows.length; i += perStatement) chunks.push(rows.slice(i, i + perStatement));
	return chunks;
}

function placeholders(rows: number, columns: number): string {
	const row = `(${new Array(columns).fill("?").join(", ")})`;
	return new Array(rows).fill(row).join(", ");
}

/** The statements of one drain; run together in one D1 batch, which is one transaction. */
export function mirrorStatements(db: D1Database, batch: MirrorBatch): D1PreparedStatement[] {
	const { tenantId, conversation: c } = batch;
	const now = Date.now();
	const statements: D1PreparedStatement[] = [
		db
			.prepare(
				`INSERT INTO mirrored_conversations
				   (tenant_id, conversation_id, type, title, created_by, created_at, last_seq, updated_at)
				 VALUES (?, ?, ?, ?, ?, ?, ?, ?)
				 ON CONFLICT (tenant_id, conversation_id) DO UPDATE SET
				   title = excluded.title,
				   last_seq = MAX(last_seq, excluded.last_seq),
				   updated_at = excluded.updated_at`,
			)
			.bind(tenantId, c.conversationId, c.type, c.title, c.createdBy, c.createdAt, c.lastSeq, now),
	];
	if (batch.members) {
		// Replace the set: in one transaction, so a search never sees the conversation without members.
		statements.push(
			db
				.prepare("DELETE FROM mirrored_members WHERE tenant_id = ? AND conversation_id = ?")
				.bind(tenantId, c.conversationId),
		);
		for (const chunk of chunkRows(batch.members, MEMBER_COLUMNS.length)) {
			statements.push(
				db
					.prepare(
						`INSERT INTO mirrored_members (${MEMBER_COLUMNS.join(", ")})
						 VALUES ${placeholders(chunk.length, MEMBER_COLUMNS.length)}`,
					)
					.bind(...chunk.flatMap((m) => [tenantId, c.conversationId, m.userId, m.role, m.joinedAt])),
			);
		}
	}
	for (const chunk of chunkRows(batch.messages, MESSAGE_COLUMNS.length)) {
		statements.push(
			db
				.prepare(
					`INSERT INTO mirrored_messages (${MESSAGE_COLUMNS.join(", ")})
					 VALUES ${placeholders(chunk.length, MESSAGE_COLUMNS.length)}
					 ON CONFLICT (tenant_id, conversation_id, seq) DO NOTHING`,
				)
				.bind(...chunk.flatMap((row) => [tenantId, c.conversationId, ...rowValues(row)])),
		);
	}
	return statements;
}

export async function writeMirrorBatch(db: D1Database, batch: MirrorBatch): Promise<void> {
	await db.batch(mirrorStatements(db, batch));
}

// ── reading the mirror ───────────────────────────────────────────────────────────────────────────

type MirroredRow = MessageRow & { doc_id: number; conversation_id: string };

const SELECT_MESSAGE = ["doc_id", "conversation_id", ...MESSAGE_COLUMN_NAMES].map((c) => `m.${c}`).join(", ");
function toMessage(row: MirroredRow): Message {
	return rowToMessage(row, row.conversation_id);
}

export async function findMirroredConversation(
	db: D1Database,
	tenantId: string,
	conversationId: string,
): Promise<MirrorConversation | null> {
	const row = await db
		.prepare(
			`SELECT conversation_id, type, title, created_by, created_at, last_seq
			 FROM mirrored_conversations WHERE tenant_id = ? AND conversation_id = ?`,
		)
		.bind(tenantId, conversationId)
		.first<{
			conversation_id: string;
			type: "direct" | "group";
			title: string | null;
			created_by: string;
			created_at: number;
			last_seq: number;
		}>();
	if (!row) return null;
	return {
		conversationId: row.conversation_id,
		type: row.type,
		title: row.title,
		createdBy: row.created_by,
		createdAt: row.created_at,
		lastSeq: row.last_seq,
	};
}

/** Mirrored messages with seq > after, ascending: one page of an export. */
export async function exportPage(
	db: D1Database,
	tenantId: string,
	conversationId: string,
	after: number,
	limit: number,
): Promise<Message[]> {
	const { results } = await db
		.prepare(
			`SELECT ${SELECT_MESSAGE} FROM mirrored_messages m
			 WHERE m.tenant_id = ? AND m.conversation_id = ? AND m.seq > ?
			 ORDER BY m.seq ASC LIMIT ?`,
		)
		.bind(tenantId, conversationId, after, limit)
		.all<MirroredRow>();
	return results.map(toMessage);
}

/** How many messages of a conversation the mirror holds (for tests and operators). */
export async function countMirroredMessages(
	db: D1Database,
	tenantId: string,
	conversationId: string,
): Promise<{ rows: number; distinctSeqs: number; maxSeq: number }> {
	const row = await db
		.prepare(
			`SELECT COUNT(*) AS rows, COUNT(DISTINCT seq) AS distinct_seqs, COALESCE(MAX(seq), 0) AS max_seq
			 FROM mirrored_messages WHERE tenant_id = ? AND conversation_id = ?`,
		)
		.bind(tenantId, conversationId)
		.first<{ rows: number; distinct_seqs: number; max_seq: number }>();
	return { rows: row?.rows ?? 0, distinctSeqs: row?.distinct_seqs ?? 0, maxSeq: row?.max_seq ?? 0 };
}

/**
 * A user's words as an FTS5 query: each term becomes a quoted string (so operators and column
 * filters in the input are plain text), all terms must match, and the last one matches as a prefix.
 */
export function ftsQuery(q: string): string | null {
	const terms = q
		.split(/\s+/)
		.map((term) => term.replaceAll(String.fromCharCode(0), "").replaceAll('"', ""))
		.filter((term) => /[\p{L}\p{N}]/u.test(term))
		.slice(0, 16);
	if (terms.length === 0) return null;
	return terms.map((term, i) => `"${term}"${i === terms.length - 1 ? " *" : ""}`).join(" ");
}

function encodeCursor(row: MirroredRow): string {
	return `${row.created_at}_${row.doc_id}`;
}

function decodeCursor(cursor: string): { createdAt: number; docId: number } {
	const match = /^(\d{1,16})_(\d{1,16})$/.exec(cursor);
	if (!match) throw new AppError("bad_request", "cursor: not a cursor this API gave out");
	return { createdAt: Number(match[1]), docId: Number(match[2]) };
}

/**
 * Full-text search over the mirrored messages of the conversations the user is a member of (as the
 * mirror last saw the membership), newest first.
 */
export async function searchMessages(
	db: D1Database,
	tenantId: string,
	userId: string,
	query: SearchQuery,
): Promise<{ messages: Message[]; nextCursor: string | null }> {
	const match = ftsQuery(query.q);
	if (!match) throw new AppError("bad_request", "q: give at least one word to search for");
	const after = query.cursor === undefined ? null : decodeCursor(query.cursor);
	const conditions = [
		"mirrored_messages_fts MATCH ?",
		"m.tenant_id = ?",
		"m.deleted_at IS NULL",
		"m.conversation_id IN (SELECT conversation_id FROM mirrored_members WHERE tenant_id = ? AND user_id = ?)",
	];
	const params: unknown[] = [match, tenantId, tenantId, userId];
	if (query.conversationId !== undefined) {
		conditions.push("m.conversation_id = ?");
		params.push(query.conversationId);
	}
	if (after) {
		conditions.push("(m.created_at < ? OR (m.created_at = ? AND m.doc_id < ?))");
		params.push(after.createdAt, after.createdAt, after.docId);
	}
	const { results } = await db
		.prepare(
			`SELECT ${SELECT_MESSAGE} FROM mirrored_messages_fts
			 JOIN mirrored_messages m ON m.doc_id = mirrored_messages_fts.rowid
			 WHERE ${conditions.join(" AND ")}
			 ORDER BY m.created_at DESC, m.doc_id DESC
			 LIMIT ?`,
		)
		.bind(...params, query.limit + 1)
		.all<MirroredRow>();
	const page = results.slice(0, query.limit);
	const last = page.at(-1);
	return {
		messages: page.map(toMessage),
		nextCursor: results.length > query.limit && last ? encodeCursor(last) : null,
	};
}
