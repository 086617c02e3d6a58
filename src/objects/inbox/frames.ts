/** What the Inbox object does with each frame a device sends: parse, then the same command as HTTP. */
import { errorFrame } from "../../errors";
import { InboxClientFrame } from "../../protocol";
import { assertNever } from "../../util";
import { parseClientFrame } from "../frame-parser";
import { ackThrough, type Mailbox } from "./mailbox";
import { sendFrame } from "./sockets";

export function handleInboxFrame(mailbox: Mailbox, ws: WebSocket, data: string | ArrayBuffer): void {
	try {
		const frame = parseClientFrame(data, InboxClientFrame);
		switch (frame.type) {
			case "ping":
				// The runtime answers the exact text {"type":"ping"} itself; this covers other spellings.
				sendFrame(ws, { type: "pong" });
				return;
			case "inbox.ack":
				ackThrough(mailbox, frame.cursor);
				return;
			default:
				assertNever(frame);
		}
	} catch (error) {
		sendFrame(ws, errorFrame(error));
	}
}
