/**
 * Every socket's first line of defence, shared by the Conversation and Inbox objects: size check,
 * JSON.parse, then the frame schema. A bad frame becomes an AppError (answered with an `error`
 * frame by the caller), never an exception that could hurt the object.
 */
import type { z } from "zod";
import { AppError } from "../errors";
import { LIMITS } from "../protocol";

const decoder = new TextDecoder();
const encoder = new TextEncoder();

/** UTF-8 size; a string of n UTF-16 units takes between n and 3n bytes, so most frames skip encoding. */
function frameBytes(data: string | ArrayBuffer): number {
	if (typeof data !== "string") return data.byteLength;
	if (data.length > LIMITS.frameBytes) return data.length;
	return data.length * 3 <= LIMITS.frameBytes ? data.length : encoder.encode(data).byteLength;
}

/** A union of frame objects told apart by a literal `type`. */
type FrameSchema = z.ZodDiscriminatedUnion<z.ZodObject<{ type: z.ZodLiteral<string> }>[]>;

export function parseClientFrame<S extends FrameSchema>(data: string | ArrayBuffer, schema: S): z.infer<S> {
	if (frameBytes(data) > LIMITS.frameBytes) {
		throw new AppError("frame_too_large", `Frames are limited to ${LIMITS.frameBytes} bytes`);
	}
	let json: unknown;
	try {
		json = JSON.parse(typeof data === "string" ? data : decoder.decode(data));
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
