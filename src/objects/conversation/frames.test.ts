import { describe, expect, it } from "vitest";
import { createUnlimitedTenant, type Frame, User } from "../../../test/helpers";
import { LIMITS } from "../../protocol";

async function openRoom() {
	const tenant = await createUnlimitedTenant();
	const alice = await User.create(tenant, "alice");
	const conversation = await alice.createGroup(["bob"]);
	const socket = await alice.connect(conversation.id);
	await socket.next("ready");
	return { alice, conversation, socket };
}

describe("a refused message.send", () => {
	it("gets one error carrying its clientId, however the frame is wrong, and stores nothing", async () => {
		const { alice, conversation, socket } = await openRoom();
		const emoji = (n: number) => "😀".repeat(n);
		const cases: [string, string | ArrayBuffer, string][] = [
			// 33 and 64 emoji are 66 and 128 UTF-16 units: still 1-64 characters.
			[emoji(33), JSON.stringify({ type: "message.send", clientId: emoji(33), text: 1 }), "bad_request"],
			[
				emoji(64),
				JSON.stringify({ type: "message.send", clientId: emoji(64), text: "x", replyTo: -1 }),
				"bad_request",
			],
			[
				"binary-1",
				new TextEncoder().encode(JSON.stringify({ type: "message.send", clientId: "binary-1", text: [] }))
					.buffer as ArrayBuffer,
				"bad_request",
			],
			[
				"big-1",
				JSON.stringify({ type: "message.send", clientId: "big-1", text: "€".repeat(LIMITS.frameBytes / 3) }),
				"frame_too_large",
			],
			[
				"surrogate-1",
				'{"type":"message.send","clientId":"surrogate-1","text":"hello \\ud800"}',
				"bad_request",
			],
			["no-text", JSON.stringify({ type: "message.send", clientId: "no-text" }), "text_required"],
			// A client that cut an emoji in half still learns which send failed.
			["a\ud83d", '{"type":"message.send","clientId":"a\\ud83d","text":"x"}', "bad_request"],
		];
		for (const [clientId, data, code] of cases) {
			socket.ws.send(data);
			const error = await socket.next<Frame & { code: string; clientId?: string }>("error");
			expect(error, JSON.stringify(clientId)).toMatchObject({ code, clientId });
		}
		await socket.flush();
		expect(socket.frames.filter((f) => f.type === "error" || f.type === "message.ack")).toEqual([]);
		expect((await alice.history(conversation.id)).messages).toEqual([]);
		socket.close();
	});

	it("of a lone surrogate stays refused on a retry: nothing is stored under its clientId", async () => {
		const { alice, conversation, socket } = await openRoom();
		for (let i = 0; i < 2; i++) {
			socket.send('{"type":"message.send","clientId":"x1","text":"hello \\ud800"}');
			expect(await socket.next("error")).toMatchObject({ code: "bad_request", clientId: "x1" });
		}
		socket.send({ type: "message.send", clientId: "x1", text: "hello" });
		expect(await socket.next("message.ack")).toMatchObject({ clientId: "x1", seq: 1, duplicate: false });
		expect((await alice.history(conversation.id)).messages.map((m) => m.text)).toEqual(["hello"]);
		socket.close();
	});
});
