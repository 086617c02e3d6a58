/**
 * What the Conversation object does with each frame a client sends on its socket: parse, then call
 * the same command the HTTP route calls (send.ts, read.ts, typing.ts, replay.ts). A refusal becomes an
 * `error` frame and the socket stays open.
 */
import { errorFrame } from "../../errors";
import { ClientFrame } from "../../protocol";
import { assertNever } from "../../util";
import { parseClientFrame, sendClientId } from "../frame-parser";
import { markRead } from "./read";
import { replay } from "./replay";
import type { Room } from "./room";
import { sendMessage } from "./send";
import { sendFrame } from "./sockets";
import { setTyping } from "./typing";

export function handleFrame(room: Room, ws: WebSocket, userId: string, data: string | ArrayBuffer): void {
	let frame: ClientFrame;
	try {
		frame = parseClientFrame(data, ClientFrame);
	} catch (error) {
		sendFrame(ws, errorFrame(error, sendClientId(data)));
		return;
	}
	try {
		dispatch(room, ws, userId, frame);
	} catch (error) {
		sendFrame(ws, errorFrame(error, frame.type === "message.send" ? frame.clientId : undefined));
	}
}

function dispatch(room: Room, ws: WebSocket, userId: string, frame: ClientFrame): void {
	switch (frame.type) {
		case "ping":
			// The runtime answers the exact text {"type":"ping"} itself; this covers other spellings.
			sendFrame(ws, { type: "pong" });
			return;
		case "message.send": {
			const { type: _type, ...body } = frame;
			const { message, duplicate } = sendMessage(room, userId, body);
			sendFrame(ws, {
				type: "message.ack",
				clientId: frame.clientId,
				seq: message.seq,
				id: message.id,
				duplicate,
			});
			return;
		}
		case "read.mark":
			markRead(room, userId, frame.seq);
			return;
		case "typing.start":
		case "typing.stop":
			setTyping(room, userId, frame.type === "typing.start");
			return;
		case "sync":
			replay(room, ws, frame.after);
			return;
		default:
			assertNever(frame);
	}
}
