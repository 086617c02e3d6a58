/** What the Inbox object does with each frame a device sends on its socket. */
import { AppError } from "../../errors";
import { InboxClientFrame, type InboxServerFrame } from "../../protocol";
import { assertNever } from "../../util";
import { parseClientFrame } from "../frame-parser";
import type { Inbox } from "./inbox";
import { sendFrame } from "./sockets";

function errorFrame(error: unknown): InboxServerFrame {
	if (error instanceof AppError) return { type: "error", code: error.code, message: error.message };
	console.error("inbox frame handler failed", error);
	return { type: "error", code: "internal", message: "Internal error" };
}

export function handleInboxFrame(inbox: Inbox, ws: WebSocket, data: string | ArrayBuffer): void {
	try {
		const frame = parseClientFrame(data, InboxClientFrame);
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
