/**
 * Media uploaded to this conversation, registered by the upload route once the bytes are in R2. The
 * table lives in the object's own SQLite, so the send path checks attachments synchronously, without
 * an await between reading lastSeq and writing the message. Tenant and conversation are implicit: the
 * object is one (tenant, conversation), so a media id of another one is simply not in its table.
 */
import { TUNING } from "../../config";
import { AppError } from "../../errors";
import { mediaKey, mediaUrl } from "../../media/keys";
import type { Attachment, Media } from "../../protocol";
import type { Room } from "./room";

export interface MediaRecord {
	id: string;
	uploaderId: string;
	contentType: string;
	size: number;
	width: number | null;
	height: number | null;
	createdAt: number;
}

/** A registered media as stored; `deletingAt` is set while it is being collected. */
export interface StoredMedia extends MediaRecord {
	deletingAt: number | null;
}

type MediaRow = {
	deleting_at: number | null;
	id: string;
	uploader_id: string;
	content_type: string;
	size: number;
	width: number | null;
	height: number | null;
	created_at: number;
};

export function registerMedia(sql: SqlStorage, media: MediaRecord): void {
	// A retried registration of the same upload is a no-op; ids are random, so no two uploads share one.
	sql.exec(
		`INSERT INTO media (id, uploader_id, content_type, size, width, height, created_at)
		 VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING`,
		media.id,
		media.uploaderId,
		media.contentType,
		media.size,
		media.width,
		media.height,
		media.createdAt,
	);
}

export function findMedia(sql: SqlStorage, id: string): StoredMedia | null {
	const row = sql
		.exec<MediaRow>(
			"SELECT id, uploader_id, content_type, size, width, height, created_at, deleting_at FROM media WHERE id = ?",
			id,
		)
		.toArray()[0];
	if (!row) return null;
	return {
		id: row.id,
		uploaderId: row.uploader_id,
		contentType: row.content_type,
		size: row.size,
		width: row.width,
		height: row.height,
		createdAt: row.created_at,
		deletingAt: row.deleting_at,
	};
}

/** The media `uploaderId` registered under `id`, as the upload answered it; null if there is none. */
export function uploadedBy(sql: SqlStorage, uploaderId: string, id: string): Media | null {
	const media = findMedia(sql, id);
	if (!media || media.deletingAt !== null || media.uploaderId !== uploaderId) return null;
	return {
		id: media.id,
		contentType: media.contentType,
		size: media.size,
		...(media.width !== null && media.height !== null ? { width: media.width, height: media.height } : {}),
	};
}

export function toAttachment(media: MediaRecord): Attachment {
	return {
		id: media.id,
		contentType: media.contentType,
		size: media.size,
		url: mediaUrl(media.id),
		...(media.width !== null && media.height !== null ? { width: media.width, height: media.height } : {}),
	};
}

/**
 * The attachments of a message the sender is writing: each id must name media uploaded to this
 * conversation by the sender. One code for unknown, foreign and someone else's media, so a sender
 * cannot probe which ids exist elsewhere.
 */
export function resolveAttachments(sql: SqlStorage, senderId: string, ids: readonly string[]): Attachment[] {
	if (new Set(ids).size !== ids.length) {
		throw new AppError("invalid_attachment", "A media id is listed twice");
	}
	return ids.map((id) => {
		const media = findMedia(sql, id);
		if (!media || media.deletingAt !== null || media.uploaderId !== senderId) {
			throw new AppError("invalid_attachment", `No media ${id} uploaded by you to this conversation`);
		}
		return toAttachment(media);
	});
}

/**
 * Marks for deletion up to `limit` media uploaded before `cutoff` that no message references (and
 * any marked earlier whose deletion did not finish), and answers their ids. From the mark on, the send
 * path refuses them, so no message can come to reference bytes that are being deleted.
 */
export function markUnattached(sql: SqlStorage, cutoff: number, limit: number, now: number): string[] {
	const ids = sql
		.exec<{ id: string }>(
			`SELECT id FROM media
			 WHERE deleting_at IS NOT NULL
			    OR (created_at < ? AND id NOT IN (
			         SELECT json_extract(a.value, '$.id') FROM messages, json_each(messages.attachments) AS a
			         WHERE messages.attachments <> '[]' AND json_extract(a.value, '$.id') IS NOT NULL))
			 ORDER BY created_at LIMIT ?`,
			cutoff,
			limit,
		)
		.toArray()
		.map((row) => row.id);
	for (const id of ids)
		sql.exec("UPDATE media SET deleting_at = COALESCE(deleting_at, ?) WHERE id = ?", now, id);
	return ids;
}

/** Forgets media whose bytes are gone from R2. */
export function forgetMedia(sql: SqlStorage, ids: readonly string[]): void {
	for (const id of ids) sql.exec("DELETE FROM media WHERE id = ? AND deleting_at IS NOT NULL", id);
}

/** Whether `userId` may download `mediaId`: it was uploaded here and they are a member. */
export function authorizeDownload(room: Room, userId: string, mediaId: string): StoredMedia {
	const media = room.store.meta ? findMedia(room.store.sql, mediaId) : null;
	if (!media || media.deletingAt !== null) throw new AppError("not_found", "No such media");
	if (!room.store.members.has(userId)) {
		throw new AppError("forbidden", "Only members of the conversation can download its media");
	}
	return media;
}

/**
 * Deletes media uploaded before `olderThanMs` ago that no message references: bytes from R2, then
 * the rows. Idempotent; a failed R2 delete leaves the rows marked, and the next call retries them.
 */
export async function collectUnattached(
	room: Room,
	bucket: R2Bucket,
	olderThanMs: number,
): Promise<{ deleted: string[]; more: boolean }> {
	const meta = room.store.requireMeta();
	const { sql } = room.store;
	const now = Date.now();
	const ids = markUnattached(sql, now - olderThanMs, TUNING.mediaCollectBatch, now);
	if (ids.length > 0) await bucket.delete(ids.map((id) => mediaKey(meta.tenantId, id)));
	forgetMedia(sql, ids);
	return { deleted: ids, more: ids.length === TUNING.mediaCollectBatch };
}
