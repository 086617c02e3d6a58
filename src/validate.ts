/**
 * How a request that does not match its route's schemas is refused: `bad_request`, with a readable
 * reason naming the field. Routes are declared with their schemas (src/routes/openapi.ts); their
 * validators call `throwBadRequest`, so app.onError answers it like every other refusal.
 */
import type { MiddlewareHandler } from "hono";
import type { AppEnv } from "./context";
import { AppError } from "./errors";
import { LIMITS } from "./protocol";

export function describeIssues(error: {
	issues: readonly { path: PropertyKey[]; message: string }[];
}): string {
	return error.issues
		.slice(0, 3)
		.map((issue) =>
			issue.path.length > 0 ? `${issue.path.map(String).join(".")}: ${issue.message}` : issue.message,
		)
		.join("; ");
}

/** The validators' hook (`defaultHook` of every route group): a failed parse becomes `bad_request`. */
export function throwBadRequest(result: {
	success: boolean;
	error?: { issues: readonly { path: PropertyKey[]; message: string }[] };
}): void {
	if (!result.success && result.error) throw new AppError("bad_request", describeIssues(result.error));
}

/** JSON's media types: `application/json` and `application/<anything>+json` (parameters aside). */
const JSON_MEDIA_TYPE = /^application\/([\w.-]+\+)?json$/i;

/** The charset of a Content-Type, when it names one; JSON is UTF-8 (RFC 8259 §8.1). */
function charsetOf(contentType: string): string | undefined {
	const match = /;\s*charset\s*=\s*"?([^";\s]*)"?/i.exec(contentType);
	return match?.[1]?.toLowerCase();
}

const unsupported = (contentType: string | undefined) =>
	new AppError(
		"unsupported_media_type",
		contentType === undefined
			? "The body must be JSON: send Content-Type: application/json"
			: `The body must be JSON (Content-Type: application/json), not ${contentType}`,
	);

/**
 * On a route with a JSON body, before its validator: the body is refused as `415` unless it is declared
 * JSON in UTF-8, and read at most `LIMITS.jsonBodyBytes` far (`413` as soon as it is over, whether or
 * not it declared a Content-Length), then handed on as the bytes read. A body that breaks off before
 * its end (the client went away, a Content-Length longer than what came) is a `400`, not a failure of
 * ours. A request with neither a Content-Type nor a body goes on: the schema decides (`{}` defaults).
 *
 * Hono's `bodyLimit` does not fit: it trusts a Content-Length without reading, and a read that fails
 * later in the validator became a 500.
 */
export const readJsonBody: MiddlewareHandler<AppEnv> = async (c, next) => {
	const contentType = c.req.header("content-type");
	if (contentType !== undefined) {
		const charset = charsetOf(contentType);
		const essence = contentType.split(";")[0]?.trim() ?? "";
		if (!JSON_MEDIA_TYPE.test(essence) || (charset !== undefined && charset !== "utf-8"))
			throw unsupported(contentType);
	}
	const limit = LIMITS.jsonBodyBytes;
	const declared = c.req.header("content-length");
	if (declared !== undefined && /^\d+$/.test(declared.trim()) && Number(declared.trim()) > limit) {
		throw tooLarge(limit);
	}
	const bytes = await readAtMost(c.req.raw.body, limit);
	if (bytes.byteLength > 0 && contentType === undefined) throw unsupported(undefined);
	if (bytes.byteLength > 0 || c.req.raw.body) c.req.raw = new Request(c.req.raw, { body: bytes });
	await next();
};

const tooLarge = (limit: number) =>
	new AppError("payload_too_large", `JSON bodies are limited to ${limit} bytes`);

/** The whole body, refused once it passes `limit` bytes; a stream that errors is a body cut short. */
async function readAtMost(body: ReadableStream<Uint8Array> | null, limit: number): Promise<Uint8Array> {
	if (!body) return new Uint8Array(0);
	const reader = body.getReader();
	const chunks: Uint8Array[] = [];
	let size = 0;
	try {
		for (;;) {
			let next: ReadableStreamReadResult<Uint8Array>;
			try {
				next = await reader.read();
			} catch {
				throw new AppError("bad_request", "The request body ended before it was complete");
			}
			if (next.done) break;
			size += next.value.byteLength;
			if (size > limit) throw tooLarge(limit);
			chunks.push(next.value);
		}
	} catch (error) {
		// Stop reading what will not be used; the client gets our answer, not a reset.
		reader.cancel().catch(() => {});
		throw error;
	}
	const out = new Uint8Array(size);
	let offset = 0;
	for (const chunk of chunks) {
		out.set(chunk, offset);
		offset += chunk.byteLength;
	}
	return out;
}
