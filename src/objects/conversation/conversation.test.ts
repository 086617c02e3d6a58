import { evictDurableObject, runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import {
	call,
	createTenant,
	createUnlimitedTenant,
	expectError,
	json,
	type Socket,
	UPGRADE_HEADERS,
	User,
} from "../../../test/helpers";
import { type Message, PING_FRAME, PONG_FRAME, type ServerFrame } from "../../protocol";
import { conversationStub } from "../names";

type Ack = Extract<ServerFrame, { type: "message.ack" }>;

async function room(memberIds: string[] = ["bob"]) {
	const tenant = await createUnlimitedTenant();
	const alice = await User.create(tenant, "alice");
	const conversation = await alice.createGroup(memberIds);
	return { tenant, alice, conversation };
}

/** Sends frames without waiting, then waits for all their acks. */
async function sendAll(socket: Socket, texts: string[], prefix: string): Promise<Ack[]> {
	texts.forEach((text, i) => {
		socket.send({ type: "message.send", clientId: `${prefix}-${i}`, text });
	});
	const acks: Ack[] = [];
	for (let i = 0; i < texts.length; i++) acks.push(await socket.next<Ack>("message.ack"));
	return acks;
}

describe("the conversation socket", () => {
	it("starts with ready, carrying the conversation, its last seq and the protocol version", async () => {
		const { alice, conversation } = await room();
		await alice.send(conversation.id, "before");
		const socket = await alice.connect(conversation.id);
		const ready = await socket.next();
		expect(ready).toEqual({ type: "ready", conversationId: conversation.id, lastSeq: 1, protocol: 1 });
		socket.close();
	});

	it("refuses non-members and bad credentials before the upgrade, with the error body", async () => {
		const { tenant, conversation } = await room();
		const mallory = await User.create(tenant, "mallory");
		const path = `/v1/conversations/${conversation.id}/ws`;
		await expectError(await call(tenant.host, path, { token: mallory.token, headers: UPGRADE_HEADERS }), 404);
		await expectError(await call(tenant.host, path, { headers: UPGRADE_HEADERS }), 401, "unauthorized");
		await expectError(
			await call(tenant.host, `${path}?token=forged.token.x`, { headers: UPGRADE_HEADERS }),
			401,
		);
		const other = await User.create(await createTenant(), "alice");
		await expectError(await call(tenant.host, path, { token: other.token, headers: UPGRADE_HEADERS }), 401);
		await expectError(
			await call(tenant.host, `${path}?after=-3`, {
				token: mallory.token,
				headers: UPGRADE_HEADERS,
			}),
			400,
			"bad_request",
		);
	});

	it("delivers message.created to every socket, the sender's too, and acks the sender once", async () => {
		const { tenant, alice, conversation } = await room();
		const bob = await User.create(tenant, "bob");
		const aliceSocket = await alice.connect(conversation.id);
		const bobSocket = await bob.connect(conversation.id);
		aliceSocket.send({ type: "message.send", clientId: "hello-1", text: "hello" });
		const ack = await aliceSocket.next<Ack>("message.ack");
		expect(ack).toMatchObject({ clientId: "hello-1", seq: 1, duplicate: false });
		const [toAlice] = await aliceSocket.messages(1);
		const [toBob] = await bobSocket.messages(1);
		expect(toBob).toEqual(toAlice);
		expect(toBob).toMatchObject({
			seq: 1,
			id: ack.id,
			senderId: "alice",
			clientId: "hello-1",
			text: "hello",
		});
		await aliceSocket.flush();
		expect(aliceSocket.frames.filter((f) => f.type === "message.ack")).toEqual([]);
		aliceSocket.close();
		bobSocket.close();
	});

	it("orders concurrent senders over HTTP and sockets into gap-free seqs, keeping each sender's order", async () => {
		const { tenant, alice, conversation } = await room(["bob", "carol", "dave", "erin", "watcher"]);
		const watcher = await (await User.create(tenant, "watcher")).connect(conversation.id);
		const socketSenders = await Promise.all(
			["alice", "bob", "carol"].map(async (id) => (await User.create(tenant, id)).connect(conversation.id)),
		);
		const httpSenders = await Promise.all(["dave", "erin"].map((id) => User.create(tenant, id)));
		const perSender = 30;
		const texts = (who: string) => Array.from({ length: perSender }, (_, i) => `${who}:${i}`);
		await Promise.all([
			...socketSenders.map((socket, s) => sendAll(socket, texts(`s${s}`), `s${s}`)),
			...httpSenders.map(async (user) => {
				for (const [i, text] of texts(user.id).entries())
					await user.send(conversation.id, text, `${user.id}-${i}`);
			}),
		]);
		const total = perSender * 5;
		const seen = await watcher.messages(total);
		expect(seen.map((m) => m.seq)).toEqual(Array.from({ length: total }, (_, i) => i + 1));
		for (const sender of ["s0", "s1", "s2", "dave", "erin"]) {
			const mine = seen
				.filter((m) => m.text?.startsWith(`${sender}:`))
				.map((m) => Number(m.text?.split(":")[1]));
			expect(mine).toEqual(Array.from({ length: perSender }, (_, i) => i));
		}
		const history = await alice.history(conversation.id, "after=0&limit=200");
		expect(history.messages).toEqual(seen);
		for (const socket of [watcher, ...socketSenders]) socket.close();
	});

	it("answers a retried message.send with the original seq, duplicate: true, and broadcasts nothing", async () => {
		const { tenant, alice, conversation } = await room();
		const bob = await (await User.create(tenant, "bob")).connect(conversation.id);
		const socket = await alice.connect(conversation.id);
		socket.send({ type: "message.send", clientId: "retry-me", text: "once" });
		const first = await socket.next<Ack>("message.ack");
		socket.send({ type: "message.send", clientId: "retry-me", text: "once" });
		const second = await socket.next<Ack>("message.ack");
		expect(second).toEqual({ ...first, duplicate: true });
		// The same clientId over HTTP answers the original too.
		const http = await json<{ message: Message }>(
			await alice.call(`/v1/conversations/${conversation.id}/messages`, {
				body: { clientId: "retry-me", text: "once" },
			}),
			200,
		);
		expect(http.message.seq).toBe(first.seq);
		await bob.messages(1);
		await bob.flush();
		expect(bob.frames.filter((f) => f.type === "message.created")).toEqual([]);
		expect((await alice.history(conversation.id)).messages).toHaveLength(1);
		socket.close();
		bob.close();
	});

	it("resumes after a disconnect: every later message exactly once and in order, then the live ones", async () => {
		const { tenant, alice, conversation } = await room();
		const bob = await User.create(tenant, "bob");
		let socket = await bob.connect(conversation.id);
		for (let i = 1; i <= 3; i++) await alice.send(conversation.id, `m${i}`);
		const seen = await socket.messages(3);
		socket.close();
		await socket.closed();
		for (let i = 4; i <= 8; i++) await alice.send(conversation.id, `m${i}`);
		socket = await bob.connect(conversation.id, { after: seen.at(-1)?.seq ?? 0 });
		await socket.next("ready");
		await alice.send(conversation.id, "m9");
		const resumed = await socket.messages(6);
		expect(resumed.map((m) => m.text)).toEqual(["m4", "m5", "m6", "m7", "m8", "m9"]);
		await socket.flush();
		expect(socket.frames.filter((f) => f.type === "message.created")).toEqual([]);
		// A sync frame replays on demand, from any point.
		socket.send({ type: "sync", after: 6 });
		expect((await socket.messages(3)).map((m) => m.seq)).toEqual([7, 8, 9]);
		socket.close();
	});

	it("keeps hibernated sockets working after the object is evicted, with state rebuilt from storage", async () => {
		const { tenant, alice, conversation } = await room();
		const bob = await User.create(tenant, "bob");
		const aliceSocket = await alice.connect(conversation.id);
		const bobSocket = await bob.connect(conversation.id);
		await sendAll(aliceSocket, ["one", "two"], "before");
		await bobSocket.messages(2);
		await aliceSocket.messages(2);

		await evictDurableObject(conversationStub(env, tenant.id, conversation.id));

		const [ack] = await sendAll(aliceSocket, ["three"], "after");
		expect(ack).toMatchObject({ seq: 3, duplicate: false });
		expect((await bobSocket.messages(1))[0]).toMatchObject({ seq: 3, text: "three", senderId: "alice" });
		// Dedupe survives too: the retry of a message sent before the eviction is recognised.
		aliceSocket.send({ type: "message.send", clientId: "before-0", text: "one" });
		expect(await aliceSocket.next<Ack>("message.ack")).toMatchObject({ seq: 1, duplicate: true });
		// The socket's user is known after the wake-up: read marks and typing are attributed to bob.
		bobSocket.send({ type: "read.mark", seq: 3 });
		expect(await aliceSocket.next("read.updated")).toEqual({ type: "read.updated", userId: "bob", seq: 3 });
		aliceSocket.close();
		bobSocket.close();
	});

	it("resumes exactly once after an eviction that closed the sockets", async () => {
		const { tenant, alice, conversation } = await room();
		const bob = await User.create(tenant, "bob");
		const bobSocket = await bob.connect(conversation.id);
		await alice.send(conversation.id, "a");
		const [first] = await bobSocket.messages(1);

		await evictDurableObject(conversationStub(env, tenant.id, conversation.id), { webSockets: "close" });
		await bobSocket.closed();

		await alice.send(conversation.id, "b");
		await alice.send(conversation.id, "c");
		const again = await bob.connect(conversation.id, { after: first?.seq ?? 0 });
		expect((await again.next("ready")).lastSeq).toBe(3);
		expect((await again.messages(2)).map((m) => [m.seq, m.text])).toEqual([
			[2, "b"],
			[3, "c"],
		]);
		await again.flush();
		expect(again.frames.filter((f) => f.type === "message.created")).toEqual([]);
		again.close();
	});

	it("replays at most 1000 messages, then tells the client to page the rest over HTTP", async () => {
		const { alice, conversation } = await room([]);
		const sender = await alice.connect(conversation.id);
		await sendAll(
			sender,
			Array.from({ length: 1005 }, (_, i) => `m${i + 1}`),
			"bulk",
		);
		sender.close();
		const socket = await alice.connect(conversation.id, { after: 0 });
		const replayed = await socket.messages(1000);
		expect(replayed.map((m) => m.seq)).toEqual(Array.from({ length: 1000 }, (_, i) => i + 1));
		expect(await socket.next("replay.truncated")).toEqual({
			type: "replay.truncated",
			lastSentSeq: 1000,
			lastSeq: 1005,
		});
		const rest = await alice.history(conversation.id, "after=1000&limit=200");
		expect(rest.messages.map((m) => m.seq)).toEqual([1001, 1002, 1003, 1004, 1005]);
		socket.close();
	});

	it("answers every bad frame with an error frame and keeps the socket open", async () => {
		const { alice, conversation } = await room();
		const socket = await alice.connect(conversation.id);
		await socket.next("ready");
		const cases: [unknown, string, string?][] = [
			["not json", "invalid_json"],
			["[1,2", "invalid_json"],
			[{ type: "no.such.thing" }, "unknown_frame"],
			[{ text: "no type" }, "unknown_frame"],
			["42", "unknown_frame"],
			[{ type: "message.send", text: "no client id" }, "bad_request"],
			[{ type: "message.send", clientId: "c1" }, "text_required", "c1"],
			[{ type: "message.send", clientId: "c2", text: "x".repeat(16 * 1024 + 1) }, "text_too_long", "c2"],
			[{ type: "message.send", clientId: "c3", text: "x", replyTo: 99 }, "invalid_reply_to", "c3"],
			[{ type: "read.mark", seq: "1" }, "bad_request"],
			[{ type: "read.mark", seq: 5 }, "invalid_seq"],
			[{ type: "sync" }, "bad_request"],
			[{ type: "message.send", clientId: "big", text: "x".repeat(70 * 1024) }, "frame_too_large"],
		];
		for (const [frame, code, clientId] of cases) {
			socket.send(frame);
			const error = await socket.next("error");
			expect(error, JSON.stringify(frame).slice(0, 80)).toMatchObject({ code, message: expect.any(String) });
			if (clientId) expect(error.clientId).toBe(clientId);
		}
		socket.ws.send(new TextEncoder().encode("binary junk"));
		expect(await socket.next("error")).toMatchObject({ code: "invalid_json" });
		expect(socket.closeEvent).toBeNull();
		const [ack] = await sendAll(socket, ["still works"], "ok");
		expect(ack).toMatchObject({ seq: 1 });
		expect((await alice.history(conversation.id)).messages.map((m) => m.text)).toEqual(["still works"]);
		socket.close();
	});

	it("answers the exact ping frame with pong from the runtime, and other spellings from the object", async () => {
		const { alice, conversation } = await room();
		const socket = await alice.connect(conversation.id);
		await socket.next("ready");
		socket.send(PING_FRAME);
		expect(JSON.stringify(await socket.next("pong"))).toBe(PONG_FRAME);
		socket.send('{ "type" : "ping" }');
		expect(await socket.next("pong")).toEqual({ type: "pong" });
		socket.close();
	});

	it("closes a removed member's sockets with 4403 and tells the others", async () => {
		const { tenant, alice, conversation } = await room(["bob", "carol"]);
		const bob = await User.create(tenant, "bob");
		const bobPhone = await bob.connect(conversation.id);
		const bobLaptop = await bob.connect(conversation.id);
		const aliceSocket = await alice.connect(conversation.id);
		expect(
			(await alice.call(`/v1/conversations/${conversation.id}/members/bob`, { method: "DELETE" })).status,
		).toBe(204);
		expect((await bobPhone.closed()).code).toBe(4403);
		expect((await bobLaptop.closed()).code).toBe(4403);
		expect(await aliceSocket.next("member.removed")).toEqual({ type: "member.removed", userId: "bob" });
		await expectError(
			await call(tenant.host, `/v1/conversations/${conversation.id}/ws`, {
				token: bob.token,
				headers: UPGRADE_HEADERS,
			}),
			404,
		);
		aliceSocket.close();
	});

	it("broadcasts read marks, never backwards", async () => {
		const { tenant, alice, conversation } = await room();
		const bob = await User.create(tenant, "bob");
		const aliceSocket = await alice.connect(conversation.id);
		const bobSocket = await bob.connect(conversation.id);
		await alice.send(conversation.id, "1");
		await alice.send(conversation.id, "2");
		bobSocket.send({ type: "read.mark", seq: 2 });
		// Read implies delivered: the receipts move together.
		expect(await aliceSocket.next("delivered.updated")).toEqual({
			type: "delivered.updated",
			userId: "bob",
			seq: 2,
		});
		expect(await aliceSocket.next("read.updated")).toEqual({ type: "read.updated", userId: "bob", seq: 2 });
		const view = await json<{
			conversation: { members: { userId: string; readSeq: number; deliveredSeq: number }[] };
		}>(await alice.call(`/v1/conversations/${conversation.id}`), 200);
		expect(view.conversation.members.find((m) => m.userId === "bob")).toMatchObject({
			readSeq: 2,
			deliveredSeq: 2,
		});
		bobSocket.send({ type: "read.mark", seq: 1 });
		await bobSocket.flush();
		await aliceSocket.flush();
		expect(aliceSocket.frames.filter((f) => f.type === "read.updated")).toEqual([]);
		aliceSocket.close();
		bobSocket.close();
	});

	it("relays typing to the others only, and limits its rate", async () => {
		// A burst of 5 that refills one frame per 100 s: the test does not depend on how fast it runs.
		const tenant = await createTenant({ typingRate: { perSecond: 0.01, burst: 5 } });
		const alice = await User.create(tenant, "alice");
		const bob = await User.create(tenant, "bob");
		const conversation = await alice.createGroup([bob.id]);
		const aliceSocket = await alice.connect(conversation.id);
		const bobSocket = await bob.connect(conversation.id);
		aliceSocket.send({ type: "typing.start" });
		expect(await bobSocket.next("typing")).toEqual({ type: "typing", userId: "alice", active: true });
		aliceSocket.send({ type: "typing.stop" });
		expect(await bobSocket.next("typing")).toEqual({ type: "typing", userId: "alice", active: false });
		await aliceSocket.flush();
		expect(aliceSocket.frames.filter((f) => f.type === "typing")).toEqual([]);
		for (let i = 0; i < 10; i++) aliceSocket.send({ type: "typing.start" });
		expect(await aliceSocket.next("error")).toMatchObject({
			code: "rate_limited",
			retryAfter: expect.any(Number),
		});
		aliceSocket.close();
		bobSocket.close();
	});

	it("tells members who is online as sockets come and go", async () => {
		const { tenant, alice, conversation } = await room();
		const bob = await User.create(tenant, "bob");
		const aliceSocket = await alice.connect(conversation.id);
		const bobSocket = await bob.connect(conversation.id);
		expect(await aliceSocket.next("presence")).toEqual({ type: "presence", userId: "bob", online: true });
		expect(await bobSocket.next("presence")).toEqual({ type: "presence", userId: "alice", online: true });
		bobSocket.close();
		expect(await aliceSocket.next("presence")).toEqual({ type: "presence", userId: "bob", online: false });
		aliceSocket.close();
	});

	it("answers a sender over its rate with an error frame carrying the clientId, storing nothing for it", async () => {
		const tenant = await createTenant({ sendRate: { perSecond: 0.01, burst: 20 } });
		const alice = await User.create(tenant, "alice");
		const conversation = await alice.createGroup([]);
		const socket = await alice.connect(conversation.id);
		for (let i = 0; i < 25; i++) socket.send({ type: "message.send", clientId: `r${i}`, text: "x" });
		const error = await socket.next("error");
		expect(error).toMatchObject({
			code: "rate_limited",
			retryAfter: expect.any(Number),
			clientId: expect.stringMatching(/^r\d+$/),
		});
		await socket.flush();
		const acks = socket.frames.filter((f) => f.type === "message.ack");
		const stored = (await alice.history(conversation.id)).messages;
		expect(acks.length).toBe(20);
		expect(stored.length).toBe(acks.length);
		expect(stored.map((m) => m.clientId)).not.toContain(error.clientId);
		socket.close();
	});
});

describe("tenant settings", () => {
	it("hold frames on sockets that outlived an eviction to the tenant's limits, not the defaults", async () => {
		// A tenant allowed 100 messages in a burst; the default would refuse after 20.
		const tenant = await createTenant({ sendRate: { perSecond: 1, burst: 100 } });
		const alice = await User.create(tenant, "alice");
		const conversation = await alice.createGroup([]);
		const socket = await alice.connect(conversation.id);
		await socket.next("ready");
		await evictDurableObject(conversationStub(env, tenant.id, conversation.id));
		const acks = await sendAll(
			socket,
			Array.from({ length: 50 }, (_, i) => `m${i}`),
			"burst",
		);
		expect(acks.map((a) => a.seq)).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));
		socket.close();
	});
});

describe("conversations that do not exist", () => {
	it("leave no storage behind when probed, nor when a create is refused", async () => {
		const tenant = await createUnlimitedTenant();
		const alice = await User.create(tenant, "alice");
		const probed = "g_never_created_here";
		await expectError(await alice.call(`/v1/conversations/${probed}`), 404, "conversation_not_found");
		await expectError(
			await alice.call(`/v1/conversations/${probed}/messages`),
			404,
			"conversation_not_found",
		);
		await expectError(
			await alice.call(`/v1/conversations/${probed}/messages`, { body: { clientId: "x", text: "hi" } }),
			404,
			"conversation_not_found",
		);
		await expectError(
			await call(tenant.host, `/v1/conversations/${probed}/ws`, {
				token: alice.token,
				headers: UPGRADE_HEADERS,
			}),
			404,
		);
		const tables = (id: string) =>
			runInDurableObject(
				conversationStub(env, tenant.id, id),
				(_object, state) =>
					state.storage.sql
						.exec<{ n: number }>("SELECT COUNT(*) AS n FROM sqlite_master WHERE type = 'table'")
						.one().n,
			);
		expect(await tables(probed)).toBe(0);

		// A direct conversation refused for its members creates nothing either; a real one does.
		await expectError(
			await alice.call("/v1/conversations", { body: { type: "direct", memberIds: ["alice"] } }),
			400,
		);
		const group = await alice.createGroup(["bob"]);
		expect(await tables(group.id)).toBeGreaterThan(0);
		await alice.send(group.id, "still works");
	});
});

describe("sockets whose token expires", () => {
	/** Opens a socket on the object directly, as the Worker would, with the given expiry. */
	async function openWithExpiry(tenantId: string, conversationId: string, userId: string, expiresAt: number) {
		const response = await conversationStub(env, tenantId, conversationId).fetch("https://conversation/ws", {
			headers: {
				Upgrade: "websocket",
				"x-edgechat-user": userId,
				"x-edgechat-expires-at": String(expiresAt),
			},
		});
		const ws = response.webSocket as WebSocket;
		ws.accept();
		const closed = new Promise<number>((resolve) =>
			ws.addEventListener("close", (event) => resolve(event.code)),
		);
		return { ws, closed };
	}

	it("are closed with 4401 by the alarm, even when they only read, and refuse frames once expired", async () => {
		const { tenant, alice, conversation } = await room();
		const stub = conversationStub(env, tenant.id, conversation.id);
		const reader = await openWithExpiry(tenant.id, conversation.id, "bob", Date.now() + 300);
		const fresh = await alice.connect(conversation.id); // a token valid for a day
		await fresh.next("ready");
		await new Promise((resolve) => setTimeout(resolve, 350));
		await runDurableObjectAlarm(stub);
		expect(await reader.closed).toBe(4401);
		expect(fresh.closeEvent).toBeNull();

		const writer = await openWithExpiry(tenant.id, conversation.id, "bob", Date.now() - 1);
		writer.ws.send(JSON.stringify({ type: "message.send", clientId: "late", text: "too late" }));
		expect(await writer.closed).toBe(4401);
		expect((await alice.history(conversation.id)).messages).toEqual([]);
		fresh.close();
	});
});
