/**
 * Every socket's first line of defence, shared by the Conversation and Inbox objects: size check,
 * JSON.parse, then the frame schema. A bad frame becomes an AppError (answered with an `error`
 * frame by the caller), never an exception that could hurt the object.
 *
 * Sizes are bytes of UTF-8, text and binary frames alike; lengths of fields are characters (code
 * points), as the schemas of src/protocol.ts count them.
 */
import type { z } from "zod";
import { AppError } from "../errors";
import { EchoedClientId, LIMITS } from "../protocol";

const decoder = new TextDecoder();
const encoder = new TextEncoder();

/** UTF-8 size; a string of n UTF-16 units takes between n and 3n bytes, so most frames skip encoding. */
function frameBytes(data: string | ArrayBuffer): number {
	if (typeof data !== "string") return data.byteLength;
	if (data.length > LIMITS.frameBytes) return data.length;
	return data.length * 3 <= LIMITS.frameBytes ? data.length : encoder.encode(data).byteLength;
}

/** A frame as text: binary frames are read as UTF-8 (an invalid sequence becomes U+FFFD). */
export function frameText(data: string | ArrayBuffer): string {
	return typeof data === "string" ? data : decoder.decode(data);
}

/** A union of frame objects told apart by a literal `type`. */
type FrameSchema = z.ZodDiscriminatedUnion<z.ZodObject<{ type: z.ZodLiteral<string> }>[]>;

export function parseClientFrame<S extends FrameSchema>(data: string | ArrayBuffer, schema: S): z.infer<S> {
	if (frameBytes(data) > LIMITS.frameBytes) {
		throw new AppError("frame_too_large", `Frames are limited to ${LIMITS.frameBytes} bytes`);
	}
	let json: unknown;
	try {
		json = JSON.parse(frameText(data));
	} catch {
		throw new AppError("invalid_json", "Frames are JSON text");
	}
	const parsed = schema.safeParse(json);
	if (parsed.success) return parsed.data;
	const type = typeof json === "object" && json !== null ? (json as { type?: unknown }).type : undefined;
	const known = schema.options.some((option) => option.shape.type.value === type);
	if (!known) throw new AppError("unknown_frame", `Unknown frame type ${JSON.stringify(type ?? null)}`);
	const issue = parsed.error.issues[0];
	throw new AppError("bad_request", `${issue?.path.join(".") || "frame"}: ${issue?.message ?? "invalid"}`);
}

/**
 * The clientId of a refused `message.send`, whenever it can be read: from a frame of any size (one
 * over the limit is not parsed, only scanned), text or binary, valid JSON or not past the clientId.
 * It is the top-level `clientId` of an object whose top-level `type` is "message.send" (the last of
 * each, as JSON.parse keeps the last of a duplicate key), of 1-64 characters: a clientId refused
 * only for a lone surrogate is echoed too (EchoedClientId in src/protocol.ts says why).
 */
export function sendClientId(data: string | ArrayBuffer): string | undefined {
	const { type, clientId } = topLevelStrings(frameText(data), ["type", "clientId"]);
	if (type !== "message.send" || clientId === undefined) return undefined;
	return EchoedClientId.safeParse(clientId).success ? clientId : undefined;
}

/** Longest JSON token read as a value (a clientId of 64 characters, each written as a `\uXXXX` pair). */
const MAX_TOKEN = 64 * 12 + 2;

/**
 * The string values of `keys` among the top-level members of the JSON object `text`, scanned without
 * building any value: O(length), no allocation but the tokens read. A key whose last value is not a
 * string answers undefined. The scan stops at the first syntax error with what it has read so far.
 */
export function topLevelStrings(text: string, keys: readonly string[]): Record<string, string | undefined> {
	const found: Record<string, string | undefined> = {};
	let i = skipSpace(text, 0);
	if (text[i] !== "{") return found;
	i = skipSpace(text, i + 1);
	while (i < text.length && text[i] === '"') {
		const keyEnd = stringEnd(text, i);
		if (keyEnd < 0) return found;
		const key = keyEnd - i <= MAX_TOKEN ? parseToken(text.slice(i, keyEnd)) : undefined;
		i = skipSpace(text, keyEnd);
		if (text[i] !== ":") return found;
		i = skipSpace(text, i + 1);
		const valueEnd = text[i] === '"' ? stringEnd(text, i) : skipValue(text, i);
		if (valueEnd < 0) return found;
		if (typeof key === "string" && keys.includes(key)) {
			const value = valueEnd - i <= MAX_TOKEN ? parseToken(text.slice(i, valueEnd)) : undefined;
			found[key] = typeof value === "string" ? value : undefined;
		}
		i = skipSpace(text, valueEnd);
		if (text[i] !== ",") return found;
		i = skipSpace(text, i + 1);
	}
	return found;
}

function parseToken(token: string): unknown {
	try {
		return JSON.parse(token);
	} catch {
		return undefined;
	}
}

function skipSpace(text: string, from: number): number {
	let i = from;
	while (i < text.length && (text[i] === " " || text[i] === "\t" || text[i] === "\n" || text[i] === "\r"))
		i++;
	return i;
}

/** The index just past the string that opens at `from` (a `"`), or -1 when it never closes. */
function stringEnd(text: string, from: number): number {
	for (let i = from + 1; i < text.length; i++) {
		const c = text[i];
		if (c === "\\") i++;
		else if (c === '"') return i + 1;
	}
	return -1;
}

/** The index just past the value (not a string) that starts at `from`, or -1 when it never ends. */
function skipValue(text: string, from: number): number {
	const open = text[from];
	if (open !== "{" && open !== "[") {
		let i = from;
		while (i < text.length && !",}] \t\n\r".includes(text[i] as string)) i++;
		return i > from ? i : -1;
	}
	let depth = 0;
	for (let i = from; i < text.length; i++) {
		const c = text[i];
		if (c === '"') {
			i = stringEnd(text, i) - 1;
			if (i < 0) return -1;
		} else if (c === "{" || c === "[") depth++;
		else if (c === "}" || c === "]") {
			depth--;
			if (depth === 0) return i + 1;
		}
	}
	return -1;
}
