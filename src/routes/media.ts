/**
 * Media: uploads stream through the Worker into R2 under the tenant's prefix, downloads stream back
 * out to members of the conversation the media was uploaded to. Limits and the type allowlist are in
 * docs/media.md.
 */
import { z } from "zod";
import { requireUser } from "../auth/middleware";
import { AppError, rpc } from "../errors";
import { idempotentMediaId, mediaKey, newMediaId } from "../media/keys";
import { parseRange } from "../media/range";
import { ALLOWED_MEDIA_TYPES, allowedType } from "../media/sniff";
import { uploadToR2 } from "../media/upload";
import type { MediaRecord } from "../objects/conversation/attachments";
import { conversationStub } from "../objects/names";
import {
	IDEMPOTENT_REPLAYED,
	Id,
	IdempotencyHeaders,
	LIMITS,
	type Media,
	MediaResponse,
	MediaUploadQuery,
	Str,
} from "../protocol";
import { BINARY, defineRoute, json, replayed, routeGroup, SECURITY } from "./openapi";

/** Downloads may be cached by the user's own client only: membership decides who may read them. */
const CACHE_CONTROL = "private, max-age=3600";

function contentLength(header: string | undefined): number | null {
	if (header === undefined) return null;
	if (!/^\d{1,16}$/.test(header.trim())) throw new AppError("bad_request", "Content-Length is not a number");
	return Number(header.trim());
}

const common = { tags: ["Media"], security: SECURITY.user };
const header = (description: string) => ({ description, schema: { type: "string" } }) as const;

const uploadRoute = defineRoute({
	...common,
	method: "post",
	path: "/",
	summary: "Upload media",
	description: `The raw bytes as the body, streamed to R2; then a message attaches the media by id. Members of the conversation only; at most the tenant's \`mediaMaxBytes\` (default ${LIMITS.mediaBytes} bytes), of an allowlisted type that the first bytes must match (docs/media.md).`,
	request: {
		query: MediaUploadQuery,
		headers: IdempotencyHeaders,
		body: {
			required: true,
			content: Object.fromEntries(ALLOWED_MEDIA_TYPES.map((type) => [type, { schema: BINARY }])),
		},
	},
	refusals: ["conversation_not_found", "payload_too_large", "unsupported_media_type"],
	responses: {
		201: json(MediaResponse, "Stored"),
		200: replayed(MediaResponse, "A retry with the Idempotency-Key of an upload stored before: the original"),
	},
});

const downloadRoute = defineRoute({
	...common,
	method: "get",
	path: "/{id}",
	summary: "Download media",
	description:
		"The bytes, to members of the conversation the media was uploaded to, with `Range` and `If-None-Match`. Never run as a page: `nosniff` and a sandboxing CSP.",
	request: {
		params: z.object({ id: Id }),
		headers: z.object({
			range: Str.optional().meta({ description: "One range of bytes, `bytes=start-end`." }),
			"if-none-match": Str.optional().meta({ description: "The ETag of a copy the client has." }),
		}),
	},
	refusals: ["not_found", "forbidden", "range_not_satisfiable"],
	responses: {
		200: {
			description: "The bytes, with the Content-Type they were uploaded with",
			headers: { ETag: header("The media's entity tag"), "Content-Length": header("Bytes") },
			content: { "*/*": { schema: BINARY } },
		},
		206: {
			description: "The requested range",
			headers: { "Content-Range": header("`bytes start-end/size`") },
			content: { "*/*": { schema: BINARY } },
		},
		304: { description: "The client's copy is current (`If-None-Match`)" },
	},
});

export const mediaRoutes = routeGroup(requireUser)
	.openapi(uploadRoute, async (c) => {
		const tenant = c.get("tenant");
		const userId = c.get("userId");
		const { conversationId } = c.req.valid("query");

		// Everything that can be refused from the headers is refused before a byte of the body is read.
		const contentType = allowedType(c.req.header("content-type"));
		if (!contentType) {
			throw new AppError(
				"unsupported_media_type",
				`Content-Type ${JSON.stringify(c.req.header("content-type") ?? "")} is not an allowed media type`,
			);
		}
		const maxBytes = tenant.settings.mediaMaxBytes;
		const declaredLength = contentLength(c.req.header("content-length"));
		if (declaredLength !== null && declaredLength > maxBytes) {
			throw new AppError("payload_too_large", `Media is limited to ${maxBytes} bytes`);
		}
		const stub = conversationStub(c.env, tenant.id, conversationId);
		const idempotencyKey = c.req.valid("header")["idempotency-key"];
		const id = idempotencyKey
			? await idempotentMediaId(conversationId, userId, idempotencyKey)
			: newMediaId();
		const original = await rpc(() => stub.findUpload(userId, idempotencyKey ? id : null));
		if (original) {
			// The first attempt got through: answer it, and leave the bytes of the retry unread.
			await c.req.raw.body?.cancel();
			c.header(IDEMPOTENT_REPLAYED, "true");
			return c.json({ media: original }, 200);
		}

		const key = mediaKey(tenant.id, id);
		const createdAt = Date.now();
		const { size, dimensions } = await uploadToR2(c.env.MEDIA, c.req.raw.body, {
			key,
			contentType,
			declaredLength,
			maxBytes,
			// The conversation is how a download finds who may read it; the rest serves clean-up scripts.
			customMetadata: {
				tenantId: tenant.id,
				conversationId,
				uploaderId: userId,
				createdAt: String(createdAt),
			},
		});
		const record: MediaRecord = {
			id,
			uploaderId: userId,
			contentType,
			size,
			width: dimensions?.width ?? null,
			height: dimensions?.height ?? null,
			createdAt,
		};
		try {
			await rpc(() => stub.registerMedia(userId, record));
		} catch (error) {
			// Unregistered bytes could never be attached or downloaded: do not keep them.
			await c.env.MEDIA.delete(key);
			throw error;
		}
		const media: Media = { id, contentType, size, ...(dimensions ?? {}) };
		return c.json({ media }, 201);
	})
	.openapi(downloadRoute, async (c) => {
		const tenant = c.get("tenant");
		const { id } = c.req.valid("param");
		const key = mediaKey(tenant.id, id);
		const head = await c.env.MEDIA.head(key);
		const conversationId = head?.customMetadata?.conversationId;
		if (!head || !conversationId) throw new AppError("not_found", "No such media");
		const stub = conversationStub(c.env, tenant.id, conversationId);
		const media = await rpc(() => stub.authorizeMedia(c.get("userId"), id));

		const headers = new Headers({
			"content-type": media.contentType,
			etag: head.httpEtag,
			"cache-control": CACHE_CONTROL,
			"accept-ranges": "bytes",
			// Served from the API's own origin: never let a browser sniff or run it as a page.
			"x-content-type-options": "nosniff",
			"content-security-policy": "default-src 'none'; sandbox",
		});
		const ifNoneMatch = c.req.header("if-none-match");
		if (ifNoneMatch?.split(",").some((tag) => tag.trim() === head.httpEtag || tag.trim() === "*")) {
			return new Response(null, { status: 304, headers });
		}
		const range = parseRange(c.req.header("range"), head.size);
		if (range === "unsatisfiable") {
			c.header("content-range", `bytes */${head.size}`);
			throw new AppError("range_not_satisfiable", `The media has ${head.size} bytes`);
		}
		const object = await c.env.MEDIA.get(key, range ? { range } : {});
		if (!object) throw new AppError("not_found", "No such media");
		if (range) {
			headers.set("content-range", `bytes ${range.offset}-${range.offset + range.length - 1}/${head.size}`);
			headers.set("content-length", String(range.length));
			return new Response(object.body, { status: 206, headers });
		}
		headers.set("content-length", String(head.size));
		return new Response(object.body, { status: 200, headers });
	});
