import { describe, expect, it } from "vitest";
import type { Message } from "../../protocol";
import { Broadcaster } from "./broadcaster";
import { RoomSockets } from "./sockets";

/** A stand-in for the object's state: sockets that record what they were sent. */
function fakeRoom(sockets = 2) {
	const sent: string[][] = Array.from({ length: sockets }, () => []);
	const webSockets = sent.map(
		(log) =>
			({
				send: (data: string) => log.push(data),
				readyState: WebSocket.OPEN,
				deserializeAttachment: () => null,
			}) as unknown as WebSocket,
	);
	const ctx = { getWebSockets: () => webSockets } as unknown as DurableObjectState;
	return {
		out: new Broadcaster(new RoomSockets(ctx)),
		sent,
		frames: (i = 0) => (sent[i] ?? []).map((d) => JSON.parse(d)),
	};
}

const message = (seq: number, text = `m${seq}`): Message => ({
	id: `m_${seq}`,
	conversationId: "g_x",
	seq,
	senderId: "alice",
	clientId: `c${seq}`,
	text,
	attachments: [],
	replyTo: null,
	createdAt: new Date(0).toISOString(),
	editedAt: null,
	deletedAt: null,
});

describe("Broadcaster", () => {
	it("sends a lone message as message.created and a burst as one messages.created, in order", async () => {
		const room = fakeRoom();
		room.out.messageCreated(message(1));
		await new Promise((resolve) => setTimeout(resolve, 5));
		room.out.messageCreated(message(2));
		room.out.messageCreated(message(3));
		room.out.messageCreated(message(4));
		expect(room.sent[0]).toEqual([JSON.stringify({ type: "message.created", message: message(1) })]);
		await new Promise((resolve) => setTimeout(resolve, 5));
		expect(room.frames(0)).toEqual([
			{ type: "message.created", message: message(1) },
			{ type: "messages.created", messages: [message(2), message(3), message(4)] },
		]);
		expect(room.sent[1]).toEqual(room.sent[0]); // every socket, the same string
	});

	it("flushes pending messages before any other broadcast, keeping the order the object produced", () => {
		const room = fakeRoom(1);
		room.out.messageCreated(message(1));
		room.out.broadcast({ type: "read.updated", userId: "bob", seq: 1 });
		expect(room.frames().map((f) => f.type)).toEqual(["message.created", "read.updated"]);
		room.out.flush(); // nothing pending: nothing sent
		expect(room.sent[0]).toHaveLength(2);
	});

	it("keeps a batch frame far below the 1 MiB a hibernatable socket carries", () => {
		const room = fakeRoom(1);
		for (let seq = 1; seq <= 40; seq++) room.out.messageCreated(message(seq, "é".repeat(8 * 1024)));
		room.out.flush();
		const sizes = (room.sent[0] ?? []).map((d) => new TextEncoder().encode(d).byteLength);
		expect(Math.max(...sizes)).toBeLessThan(512 * 1024);
		const seqs = room
			.frames()
			.flatMap((f) => (f.type === "messages.created" ? f.messages : [f.message]).map((m: Message) => m.seq));
		expect(seqs).toEqual(Array.from({ length: 40 }, (_, i) => i + 1));
	});
});
