/**
 * Media uploaded to this conversation, registered by the upload route once the bytes are in R2. The
 * table lives in the object's own SQLite, so the send path checks attachments synchronously, without
 * an await between reading lastSeq and writing the message. Tenant and conversation are implicit: the
 * object is one (tenant, conversation), so a media id of another one is simply not in its table.
 */
import { AppError } from "../../errors";
import { mediaUrl } from "../../media/keys";
import type { Attachment } from "../../protocol";

export interface MediaRecord {
	id: string;
	uploaderId: string;
	contentType: string;
	size: number;
	width: number | null;
	height: number | null;
	createdAt: number;
}

type MediaRow = {
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

export function findMedia(sql: SqlStorage, id: string): MediaRecord | null {
	const row = sql
		.exec<MediaRow>(
			"SELECT id, uploader_id, content_type, size, width, height, created_at FROM media WHERE id = ?",
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
		if (!media || media.uploaderId !== senderId) {
			throw new AppError("invalid_attachment", `No media ${id} uploaded by you to this conversation`);
		}
		return toAttachment(media);
	});
}
