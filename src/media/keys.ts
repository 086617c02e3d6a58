/**
 * The only place R2 keys of media are built. Every key starts with the tenant id, and neither a
 * tenant id nor a media id can contain "/", so one tenant can never address another's objects.
 */
import { nanoid } from "nanoid";
import { base64UrlEncode } from "../auth/crypto";

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

/**
 * The id of the upload `uploaderId` makes to a conversation with an Idempotency-Key: derived, so that
 * a retry names the same media (the conversation object then answers it if the first attempt got
 * that far) and the same R2 key (a retry racing the first stores the bytes once). The conversation is
 * part of the input: the same key used in two conversations names two uploads.
 */
export async function idempotentMediaId(
	conversationId: string,
	uploaderId: string,
	idempotencyKey: string,
): Promise<string> {
	const input = `media\n${conversationId}\n${uploaderId}\n${idempotencyKey}`;
	const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(input));
	return `md_${base64UrlEncode(new Uint8Array(digest)).slice(0, 21)}`;
}

/** The path a message's attachment points to; relative, so it works on every domain of the tenant. */
export function mediaUrl(mediaId: string): string {
	return `/v1/media/${mediaId}`;
}
