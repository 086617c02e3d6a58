import { errorFrame } from "../../errors";
import { InboxClientFrame } from "../../protocol";
import { assertNever } from "../../util";
import { parseClientFrame } from "../frame-parser";
import type { Inbox } from "./inbox";
import { sendFrame } from "./sockets";

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
