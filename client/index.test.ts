import { evictDurableObject } from "cloudflare:test";
import { env, exports } from "cloudflare:workers";
import { afterEach, describe, expect, it } from "vitest";
import { conversationStub } from "../src/objects/names";
import { ServerFrame } from "../src/protocol";
import { TEST_FAULT_HEADER } from "../src/test-hooks";
import { createUnlimitedTenant, type TestTenant, UPGRADE_HEADERS, User } from "../test/helpers";
import { EdgechatClient, EdgechatError, type Message } from "./index";

/** Every frame the server sends the client must match the protocol's schema; a mismatch fails the test. */
const invalidFrames: string[] = [];
function validateFrames(ws: WebSocket): void {
	ws.addEventListener("message", (event) => {
		const parsed = ServerFrame.safeParse(JSON.parse(String(event.data)));
		if (!parsed.success) invalidFrames.push(`${String(event.data).slice(0, 200)}: ${parsed.error.message}`);
	});
}

afterEach(() => {
	expect(invalidFrames.splice(0)).toEqual([]);
});

/** The reasons of the close events the client's sockets saw: the client's own, echoed, when it closed first. */
const closeReasons: string[] = [];

/**
 * A client wired to the Worker under test instead of the network; `faults` are test-hook headers for
 * its first HTTP calls, one per call (src/test-hooks.ts), and `calls` counts what it sent.
 */
function clientFor(user: User, tenant: TestTenant, faults: string[] = [], calls: Request[] = []) {
	const withHost = (request: Request, fault?: string) => {
		const headers = new Headers(request.headers);
		headers.set("host", tenant.host);
		if (fault) headers.set(TEST_FAULT_HEADER, fault);
		return new Request(request, { headers });
	};
	return new EdgechatClient({
		baseUrl: `http://${tenant.host}`,
		token: user.token,
		backoff: { initialMs: 10, maxMs: 50 },
		fetch: (request) => {
			calls.push(request);
			return exports.default.fetch(withHost(request, faults.shift()));
		},
		openSocket: async (url) => {
			const response = await exports.default.fetch(
				withHost(new Request(url.replace(/^ws/, "http"), { headers: UPGRADE_HEADERS })),
			);
			if (!response.webSocket) throw new Error(`upgrade refused: ${response.status}`);
			response.webSocket.accept();
			validateFrames(response.webSocket);
			response.webSocket.addEventListener("close", (event) => closeReasons.push(event.reason));
			return response.webSocket;
		},
	});
}

async function until(condition: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
	const deadline = Date.now() + timeoutMs;
	while (!condition()) {
		if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
		await new Promise((resolve) => setTimeout(resolve, 10));
	}
}

describe("the client", () => {
	it("delivers every message once and in order across a deploy-like disconnect, and stores queued sends once", async () => {
		const tenant = await createUnlimitedTenant();
		const alice = await User.create(tenant, "alice");
		const bob = await User.create(tenant, "bob");
		const conversation = await alice.createGroup(["bob"]);
		const received: Message[] = [];
		const session = clientFor(bob, tenant).open(conversation.id, { onMessage: (m) => received.push(m) });
		const bobAcks: Promise<{ seq: number }>[] = [];

		await alice.send(conversation.id, "a1");
		await until(() => received.length === 1, "a1");
		bobAcks.push(session.send("b1", "bob-1"));
		await bobAcks[0];

		await evictDurableObject(conversationStub(env, tenant.id, conversation.id), { webSockets: "close" });
		// While bob's client reconnects: alice keeps sending and bob queues a message.
		bobAcks.push(session.send("b2", "bob-2"));
		for (let i = 2; i <= 4; i++) await alice.send(conversation.id, `a${i}`);

		const acks = await Promise.all(bobAcks);
		await until(() => received.length === 6, "six messages");
		expect(received.map((m) => m.seq)).toEqual([1, 2, 3, 4, 5, 6]);
		expect(received.map((m) => m.text).sort()).toEqual(["a1", "a2", "a3", "a4", "b1", "b2"]);
		expect(acks.map((a) => a.seq)).toEqual([
			received.find((m) => m.text === "b1")?.seq,
			received.find((m) => m.text === "b2")?.seq,
		]);
		const stored = (await alice.history(conversation.id)).messages;
		expect(stored.filter((m) => m.senderId === "bob").map((m) => m.clientId)).toEqual(["bob-1", "bob-2"]);
		session.close();
	});

	it("pages the rest over HTTP when the replay is truncated, delivering all of it once", async () => {
		const tenant = await createUnlimitedTenant();
		const alice = await User.create(tenant, "alice");
		const conversation = await alice.createGroup([]);
		const sender = await alice.connect(conversation.id);
		for (let i = 1; i <= 1203; i++) sender.send({ type: "message.send", clientId: `m${i}`, text: `m${i}` });
		for (let i = 1; i <= 1203; i++) await sender.next("message.ack");
		sender.close();

		const received: Message[] = [];
		const session = clientFor(alice, tenant).open(conversation.id, { onMessage: (m) => received.push(m) });
		await until(() => received.length >= 1203, "1203 messages");
		await alice.send(conversation.id, "live");
		await until(() => received.length === 1204, "the live message");
		expect(received.map((m) => m.seq)).toEqual(Array.from({ length: 1204 }, (_, i) => i + 1));
		session.close();
	});

	it("turns refusals into EdgechatError with the contract's code", async () => {
		const tenant = await createUnlimitedTenant();
		const alice = await User.create(tenant, "alice");
		const client = clientFor(alice, tenant);
		const error = await client.getConversation("g_nope").catch((e: unknown) => e);
		expect(error).toBeInstanceOf(EdgechatError);
		expect(error).toMatchObject({ code: "conversation_not_found", status: 404 });
		const group = await client.createGroup(["bob"], "Team");
		expect(group.title).toBe("Team");
		const message = await client.send(group.id, "hello", "fixed-id");
		expect(await client.send(group.id, "hello", "fixed-id")).toEqual(message);
	});

	it("reports removal as final and rejects what is still unsent", async () => {
		const tenant = await createUnlimitedTenant();
		const alice = await User.create(tenant, "alice");
		const bob = await User.create(tenant, "bob");
		const conversation = await alice.createGroup(["bob"]);
		const states: string[] = [];
		const session = clientFor(bob, tenant).open(conversation.id, {
			onMessage: () => {},
			onState: (s) => states.push(s),
		});
		await until(() => states.includes("open"), "open");
		closeReasons.length = 0;
		await alice.call(`/v1/conversations/${conversation.id}/members/bob`, { method: "DELETE" });
		await until(() => states.includes("removed"), "removed");
		await expect(session.send("too late")).rejects.toBeInstanceOf(EdgechatError);
		// The client closed the socket itself when told (session.ended), so the connection ends at
		// once; the server's own close, its fallback, would carry its reason instead.
		expect(closeReasons).toEqual(["removed_from_conversation"]);
	});

	it("retries a call that is safe to repeat after 503, after the Retry-After, and stores it once", async () => {
		const tenant = await createUnlimitedTenant();
		const alice = await User.create(tenant, "alice");
		const group = await alice.createGroup([]);
		const calls: Request[] = [];
		const client = clientFor(alice, tenant, [], calls);
		// The object's storage fails mid-send: nothing is kept, and the server answers 503 Retry-After 1.
		await conversationStub(env, tenant.id, group.id).injectReset("sendMessage");
		const started = Date.now();
		const message = await client.send(group.id, "through an outage", "c-outage");
		expect(Date.now() - started).toBeGreaterThanOrEqual(1000);
		expect(calls).toHaveLength(2);
		expect(message.seq).toBe(1);
		expect((await alice.history(group.id)).messages.map((m) => m.clientId)).toEqual(["c-outage"]);

		// A GET through two failures in a row (D1 down answers Retry-After 1).
		calls.length = 0;
		const flaky = clientFor(alice, tenant, ["d1", "d1"], calls);
		await expect(flaky.request("GET", "/v1/search?q=zebra")).resolves.toMatchObject({ messages: [] });
		expect(calls).toHaveLength(3);
	});

	it("does not repeat a call it cannot know to be safe, and gives up after its retries", async () => {
		const tenant = await createUnlimitedTenant();
		const alice = await User.create(tenant, "alice");
		const group = await alice.createGroup(["bob"]);
		const calls: Request[] = [];
		const client = clientFor(alice, tenant, ["do-overloaded"], calls);
		const refused = await client
			.request("DELETE", `/v1/conversations/${group.id}/members/bob`)
			.catch((e: unknown) => e);
		expect(refused).toMatchObject({ code: "unavailable", status: 503 });
		expect(calls).toHaveLength(1);

		calls.length = 0;
		const down = new EdgechatClient({
			baseUrl: `http://${tenant.host}`,
			token: alice.token,
			backoff: { initialMs: 1, maxMs: 5 },
			unavailableRetries: 2,
			fetch: (request) => {
				calls.push(request);
				const headers = new Headers(request.headers);
				headers.set("host", tenant.host);
				headers.set(TEST_FAULT_HEADER, "d1");
				return exports.default.fetch(new Request(request, { headers }));
			},
		});
		await expect(down.request("GET", "/v1/search?q=anything")).rejects.toMatchObject({ status: 503 });
		expect(calls).toHaveLength(3);
	});
});
