/** What the Inbox object does with each frame a device sends on its socket. */
import { AppError } from "../../errors";
import { InboxClientFrame, type InboxServerFrame, LIMITS } from "../../protocol";
import { assertNever } from "../../util";
import type { Inbox } from "./inbox";
import { sendFrame } from "./sockets";

const decoder = new TextDecoder();
const encoder = new TextEncoder();

function errorFrame(error: unknown): InboxServerFrame {
	if (error instanceof AppError) return { type: "error", code: error.code, message: error.message };
	console.error("inbox frame handler failed", error);
	return { type: "error", code: "internal", message: "Internal error" };
}

/** Size check, JSON.parse, schema, then the typed frame; a bad frame is answered, never fatal. */
export function parseInboxFrame(data: string | ArrayBuffer): InboxClientFrame {
	const bytes = typeof data === "string" ? encoder.encode(data).byteLength : data.byteLength;
	if (bytes > LIMITS.frameBytes) {
		throw new AppError("frame_too_large", `Frames are limited to ${LIMITS.frameBytes} bytes`);
	}
	let json: unknown;
	try {
		json = JSON.parse(typeof data === "string" ? data : decoder.decode(data));
	} catch {
		throw new AppError("invalid_json", "Frames are JSON text");
	}
	const parsed = InboxClientFrame.safeParse(json);
	if (parsed.success) return parsed.data;
	const type = typeof json === "object" && json !== null ? (json as { type?: unknown }).type : undefined;
	const known = InboxClientFrame.options.some((option) => option.shape.type.value === type);
	if (!known) throw new AppError("unknown_frame", `Unknown frame type ${JSON.stringify(type ?? null)}`);
	const issue = parsed.error.issues[0];
	throw new AppError("bad_request", `${issue?.path.join(".") || "frame"}: ${issue?.message ?? "invalid"}`);
}

export function handleInboxFrame(inbox: Inbox, ws: WebSocket, data: string | ArrayBuffer): void {
	try {
		const frame = parseInboxFrame(data);
		switch (frame.type) {
			case "ping":
				// The runtime answers the exact text {"type":"ping"} itself; this covers other spellings.
				sendFrame(ws, { type: "pong" });
				return;
			case "inbox.ack":
				inbox.ackThrough(frame.cursor);
				return;
			default:
				assertNever(frame);
		}
	} catch (error) {
		sendFrame(ws, errorFrame(error));
	}
}
