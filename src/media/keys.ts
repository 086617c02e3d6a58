/**
 * The only place R2 keys of media are built. Every key starts with the tenant id, and neither a
 * tenant id nor a media id can contain "/", so one tenant can never address another's objects.
 */
import { nanoid } from "nanoid";

export function mediaKey(tenantId: string, mediaId: string): string {
	return `${tenantId}/media/${mediaId}`;
}

/** Every media key of a tenant starts with this, for listing (clean-up, deleting a tenant). */
export function tenantMediaPrefix(tenantId: string): string {
	return `${tenantId}/media/`;
}

export function newMediaId(): string {
	return `md_${nanoid(21)}`;
}

/** The path a message's attachment points to; relative, so it works on every domain of the tenant. */
export function mediaUrl(mediaId: string): string {
	return `/v1/media/${mediaId}`;
}
