/**
 * Protocol compatibility: the protocol-1 client, frozen as it shipped (test/compat/protocol-v1/),
 * against the current server. Every frame the server sends it must be a frame of protocol 1 (checked
 * with protocol 1's own schemas), and it must keep its promise: every message once and in order,
 * across reconnects and truncated replays, while newer clients use what protocol 1 did not have.
 */
import { evictDurableObject } from "cloudflare:test";
import { env, exports } from "cloudflare:workers";
import { afterEach, describe, expect, it } from "vitest";
import { conversationStub } from "../../src/objects/names";
import { createUnlimitedTenant, type TestTenant, UPGRADE_HEADERS, User } from "../helpers";

import { EdgechatClient, type Message } from "./protocol-v1/client";
import { ServerFrame as ServerFrameV1 } from "./protocol-v1/protocol";

/** A bound for the tests that send 1,000+ messages, on a loaded machine (not a timing assertion). */
const VOLUME_TIMEOUT_MS = 180_000;

const foreignFrames: string[] = [];
afterEach(() => {
	expect(foreignFrames.splice(0)).toEqual([]);
});

/** A protocol-1 client wired to the Worker under test; every frame it receives is checked against protocol 1. */
function v1ClientFor(user: User, tenant: TestTenant) {
	const withHost = (request: Request) => {
		const headers = new Headers(request.headers);
		headers.set("host", tenant.host);
		return new Request(request, { headers });
	};
	return new EdgechatClient({
		baseUrl: `http://${tenant.host}`,
		token: user.token,
		backoff: { initialMs: 10, maxMs: 50 },
		fetch: (request) => exports.default.fetch(withHost(request)),
		openSocket: async (url) => {
			const response = await exports.default.fetch(
				withHost(new Request(url.replace(/^ws/, "http"), { headers: UPGRADE_HEADERS })),
			);
			if (!response.webSocket) throw new Error(`upgrade refused: ${response.status}`);
			response.webSocket.accept();
			response.webSocket.addEventListener("message", (event) => {
				const parsed = ServerFrameV1.safeParse(JSON.parse(String(event.data)));
				if (!parsed.success) foreignFrames.push(String(event.data).slice(0, 300));
			});
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

describe("a protocol-1 client against the current server", () => {
	it("receives every message once and in order, across a disconnect, and its sends are stored once", async () => {
		const tenant = await createUnlimitedTenant();
		const alice = await User.create(tenant, "alice");
		const bob = await User.create(tenant, "bob");
		const conversation = await alice.createGroup(["bob"]);
		const received: Message[] = [];
		const session = v1ClientFor(bob, tenant).open(conversation.id, { onMessage: (m) => received.push(m) });

		await alice.send(conversation.id, "a1");
		await until(() => received.length === 1, "a1");
		const first = session.send("b1", "bob-1");
		await first;
		await evictDurableObject(conversationStub(env, tenant.id, conversation.id), { webSockets: "close" });
		const second = session.send("b2", "bob-2");
		for (let i = 2; i <= 4; i++) await alice.send(conversation.id, `a${i}`);
		await Promise.all([first, second]);
		await until(() => received.length === 6, "six messages");

		expect(received.map((m) => m.seq)).toEqual([1, 2, 3, 4, 5, 6]);
		const stored = (await alice.history(conversation.id)).messages;
		expect(stored.filter((m) => m.senderId === "bob").map((m) => m.clientId)).toEqual(["bob-1", "bob-2"]);
		session.close();
	});

	it(
		"pages the rest over HTTP after a truncated replay",
		async () => {
			const tenant = await createUnlimitedTenant();
			const alice = await User.create(tenant, "alice");
			const conversation = await alice.createGroup([]);
			const sender = await alice.connect(conversation.id);
			for (let i = 1; i <= 1100; i++) sender.send({ type: "message.send", clientId: `m${i}`, text: `m${i}` });
			for (let i = 1; i <= 1100; i++) await sender.next("message.ack");
			sender.close();

			const received: Message[] = [];
			const session = v1ClientFor(alice, tenant).open(conversation.id, {
				onMessage: (m) => received.push(m),
			});
			await until(() => received.length >= 1100, "1100 messages", VOLUME_TIMEOUT_MS);
			expect(received.map((m) => m.seq)).toEqual(Array.from({ length: 1100 }, (_, i) => i + 1));
			session.close();
		},
		VOLUME_TIMEOUT_MS,
	);
});
