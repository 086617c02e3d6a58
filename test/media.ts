/** Harness for the media tests: sample files, uploads, and what R2 holds for a tenant. */
import { env } from "cloudflare:workers";
import { tenantMediaPrefix } from "../src/media/keys";
import type { Media } from "../src/protocol";
import { json, type User } from "./helpers";

/** A PNG header (signature and IHDR) for an image of width × height, padded with `extra` bytes. */
export function png(width: number, height: number, extra = 0): Uint8Array {
	const bytes = new Uint8Array(33 + extra);
	bytes.set([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13, 0x49, 0x48, 0x44, 0x52]);
	const view = new DataView(bytes.buffer);
	view.setUint32(16, width);
	view.setUint32(20, height);
	bytes.set([8, 6, 0, 0, 0], 24);
	for (let i = 33; i < bytes.length; i++) bytes[i] = (i * 31) & 0xff;
	return bytes;
}

/** `size` bytes of plain text. */
export function text(size: number): Uint8Array {
	const bytes = new Uint8Array(size);
	for (let i = 0; i < size; i++) bytes[i] = 97 + (i % 26);
	return bytes;
}

/** A body without a known length (sent chunked, so without Content-Length). */
export function stream(chunks: Uint8Array[]): ReadableStream<Uint8Array> {
	let i = 0;
	return new ReadableStream<Uint8Array>({
		pull(controller) {
			const chunk = chunks[i++];
			if (chunk) controller.enqueue(chunk);
			else controller.close();
		},
	});
}

export function upload(
	user: User,
	conversationId: string,
	body: BodyInit,
	contentType: string | null,
	headers: Record<string, string> = {},
): Promise<Response> {
	return user.call(`/v1/media?conversationId=${conversationId}`, {
		method: "POST",
		rawBody: body,
		headers: { ...(contentType === null ? {} : { "content-type": contentType }), ...headers },
	});
}

export async function uploaded(
	user: User,
	conversationId: string,
	body: Uint8Array,
	type: string,
): Promise<Media> {
	return (await json<{ media: Media }>(await upload(user, conversationId, body, type), 201)).media;
}

/** Every object R2 holds under the tenant's media prefix. */
export async function storedKeys(tenantId: string): Promise<string[]> {
	const listed = await env.MEDIA.list({ prefix: tenantMediaPrefix(tenantId) });
	return listed.objects.map((o) => o.key);
}
