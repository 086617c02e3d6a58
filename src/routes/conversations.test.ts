import { nanoid } from "nanoid";
import { describe, expect, it } from "vitest";
import { createTenant, createUnlimitedTenant, expectError, json, User } from "../../test/helpers";
import type { ConversationView, Message } from "../protocol";

const members = (n: number) => Array.from({ length: n }, (_, i) => `member_${i}`);

describe("conversations", () => {
	it("gives a pair of users one direct conversation, whoever creates it", async () => {
		const tenant = await createTenant();
		const alice = await User.create(tenant, "alice");
		const bob = await User.create(tenant, "bob");
		const first = await json<{ conversation: ConversationView }>(
			await alice.call("/v1/conversations", { body: { type: "direct", memberIds: ["bob"] } }),
			201,
		);
		const again = await json<{ conversation: ConversationView }>(
			await bob.call("/v1/conversations", { body: { type: "direct", memberIds: ["alice"] } }),
			200,
		);
		expect(again.conversation.id).toBe(first.conversation.id);
		expect(first.conversation.members.map((m) => m.userId).sort()).toEqual(["alice", "bob"]);
		expect(first.conversation.type).toBe("direct");
	});

	it("refuses a direct conversation with yourself or with several users", async () => {
		const alice = await User.create(await createTenant(), "alice");
		await expectError(
			await alice.call("/v1/conversations", { body: { type: "direct", memberIds: ["alice"] } }),
			400,
		);
		await expectError(
			await alice.call("/v1/conversations", { body: { type: "direct", memberIds: ["b", "c"] } }),
			400,
		);
	});

	it("makes the creator of a group its owner and shows members to members only", async () => {
		const tenant = await createTenant();
		const alice = await User.create(tenant, "alice");
		const mallory = await User.create(tenant, "mallory");
		const group = await alice.createGroup(["bob", "carol", "bob", "alice"], "Team");
		expect(group.title).toBe("Team");
		expect(group.members.map((m) => [m.userId, m.role])).toEqual([
			["alice", "owner"],
			["bob", "member"],
			["carol", "member"],
		]);
		const seen = await json<{ conversation: ConversationView }>(
			await alice.call(`/v1/conversations/${group.id}`),
			200,
		);
		expect(seen.conversation.id).toBe(group.id);
		await expectError(await mallory.call(`/v1/conversations/${group.id}`), 404, "conversation_not_found");
		await expectError(await alice.call("/v1/conversations/g_doesnotexist"), 404, "conversation_not_found");
		await expectError(await alice.call("/v1/conversations/bad:id"), 400, "bad_request");
	});

	it("allows 100 members and refuses the 101st, at creation and when adding", async () => {
		const tenant = await createTenant();
		const alice = await User.create(tenant, "alice");
		await expectError(
			await alice.call("/v1/conversations", { body: { type: "group", memberIds: members(100) } }),
			400,
			"too_many_members",
		);
		const full = await alice.createGroup(members(99));
		expect(full.members).toHaveLength(100);
		await expectError(
			await alice.call(`/v1/conversations/${full.id}/members`, { body: { userIds: ["one_more"] } }),
			400,
			"too_many_members",
		);
		const group = await alice.createGroup(members(50));
		await expectError(
			await alice.call(`/v1/conversations/${group.id}/members`, {
				body: { userIds: members(60).map((m) => `x${m}`) },
			}),
			400,
			"too_many_members",
		);
		const after = await json<{ conversation: ConversationView }>(
			await alice.call(`/v1/conversations/${group.id}`),
			200,
		);
		expect(after.conversation.members).toHaveLength(51);
	});

	it("lets the owner add and remove members, members only leave, and nobody remove the owner", async () => {
		const tenant = await createTenant();
		const alice = await User.create(tenant, "alice");
		const bob = await User.create(tenant, "bob");
		const group = await alice.createGroup(["bob"]);
		const added = await json<{ conversation: ConversationView }>(
			await alice.call(`/v1/conversations/${group.id}/members`, { body: { userIds: ["carol", "dave"] } }),
			200,
		);
		expect(added.conversation.members.map((m) => m.userId)).toEqual(["alice", "bob", "carol", "dave"]);
		await expectError(
			await bob.call(`/v1/conversations/${group.id}/members`, { body: { userIds: ["eve"] } }),
			403,
			"forbidden",
		);
		await expectError(
			await bob.call(`/v1/conversations/${group.id}/members/carol`, { method: "DELETE" }),
			403,
			"forbidden",
		);
		await expectError(
			await bob.call(`/v1/conversations/${group.id}/members/alice`, { method: "DELETE" }),
			403,
			"forbidden",
		);
		expect(
			(await alice.call(`/v1/conversations/${group.id}/members/carol`, { method: "DELETE" })).status,
		).toBe(204);
		expect((await bob.call(`/v1/conversations/${group.id}/members/bob`, { method: "DELETE" })).status).toBe(
			204,
		);
		await expectError(await bob.call(`/v1/conversations/${group.id}`), 404, "conversation_not_found");
		await expectError(
			await alice.call(`/v1/conversations/${group.id}/members/nobody`, { method: "DELETE" }),
			404,
		);
		const left = await json<{ conversation: ConversationView }>(
			await alice.call(`/v1/conversations/${group.id}`),
			200,
		);
		expect(left.conversation.members.map((m) => m.userId)).toEqual(["alice", "dave"]);
	});

	it("hands ownership on when the owner leaves", async () => {
		const tenant = await createTenant();
		const alice = await User.create(tenant, "alice");
		const bob = await User.create(tenant, "bob");
		const group = await alice.createGroup(["bob", "carol"]);
		expect(
			(await alice.call(`/v1/conversations/${group.id}/members/alice`, { method: "DELETE" })).status,
		).toBe(204);
		const after = await json<{ conversation: ConversationView }>(
			await bob.call(`/v1/conversations/${group.id}`),
			200,
		);
		expect(after.conversation.members.find((m) => m.userId === "bob")?.role).toBe("owner");
	});

	it("refuses member changes on a direct conversation", async () => {
		const tenant = await createTenant();
		const alice = await User.create(tenant, "alice");
		const direct = await json<{ conversation: ConversationView }>(
			await alice.call("/v1/conversations", { body: { type: "direct", memberIds: ["bob"] } }),
			201,
		);
		await expectError(
			await alice.call(`/v1/conversations/${direct.conversation.id}/members`, {
				body: { userIds: ["carol"] },
			}),
			400,
			"direct_conversation",
		);
	});

	it("refuses bad conversation bodies with the error body", async () => {
		const alice = await User.create(await createTenant(), "alice");
		const bad: unknown[] = [
			{},
			{ type: "channel", memberIds: [] },
			{ type: "group" },
			{ type: "group", memberIds: "bob" },
			{ type: "group", memberIds: [""] },
			{ type: "group", memberIds: ["bob"], title: "x".repeat(201) },
			{ type: "group", memberIds: ["bob"], tenantId: "t_other" },
		];
		for (const body of bad)
			await expectError(await alice.call("/v1/conversations", { body }), 400, "bad_request");
		await expectError(
			await alice.call("/v1/conversations", {
				rawBody: "{not json",
				headers: { "content-type": "application/json" },
			}),
			400,
		);
	});

	it("keeps one tenant's conversations out of another's reach, even under the same ids", async () => {
		const a = await createTenant();
		const b = await createTenant();
		const aliceA = await User.create(a, "alice");
		const aliceB = await User.create(b, "alice");
		const group = await aliceA.createGroup(["bob"]);
		await aliceA.send(group.id, "secret");
		await expectError(await aliceB.call(`/v1/conversations/${group.id}`), 404, "conversation_not_found");
		await expectError(
			await aliceB.call(`/v1/conversations/${group.id}/messages`),
			404,
			"conversation_not_found",
		);
		await expectError(
			await aliceB.call(`/v1/conversations/${group.id}/messages`, { body: { clientId: "x", text: "hi" } }),
			404,
			"conversation_not_found",
		);
		// The same pair in two tenants: the same id, two separate conversations.
		const directA = await json<{ conversation: ConversationView }>(
			await aliceA.call("/v1/conversations", { body: { type: "direct", memberIds: ["bob"] } }),
			201,
		);
		const directB = await json<{ conversation: ConversationView }>(
			await aliceB.call("/v1/conversations", { body: { type: "direct", memberIds: ["bob"] } }),
			201,
		);
		expect(directB.conversation.id).toBe(directA.conversation.id);
		await aliceA.send(directA.conversation.id, "only in A");
		expect((await aliceB.history(directB.conversation.id)).messages).toEqual([]);
	});
});

describe("messages over HTTP", () => {
	it("assigns gap-free seqs and answers a retry with the original, 200 instead of 201", async () => {
		const tenant = await createUnlimitedTenant();
		const alice = await User.create(tenant, "alice");
		const group = await alice.createGroup(["bob"]);
		const first = await json<{ message: Message }>(
			await alice.call(`/v1/conversations/${group.id}/messages`, {
				body: { clientId: "c-1", text: "hello" },
			}),
			201,
		);
		expect(first.message).toMatchObject({
			conversationId: group.id,
			seq: 1,
			senderId: "alice",
			clientId: "c-1",
			text: "hello",
			attachments: [],
			replyTo: null,
			editedAt: null,
			deletedAt: null,
		});
		const retry = await json<{ message: Message }>(
			await alice.call(`/v1/conversations/${group.id}/messages`, {
				body: { clientId: "c-1", text: "hello" },
			}),
			200,
		);
		expect(retry.message).toEqual(first.message);
		const second = await alice.send(group.id, "again");
		expect(second.seq).toBe(2);
		expect((await alice.history(group.id)).messages.map((m) => m.seq)).toEqual([1, 2]);
	});

	it("pages history ascending after a seq and descending before one, with hasMore", async () => {
		const tenant = await createUnlimitedTenant();
		const alice = await User.create(tenant, "alice");
		const group = await alice.createGroup([]);
		for (let i = 1; i <= 7; i++) await alice.send(group.id, `m${i}`);
		const up = await alice.history(group.id, "after=2&limit=3");
		expect(up.messages.map((m) => m.seq)).toEqual([3, 4, 5]);
		expect(up.hasMore).toBe(true);
		const end = await alice.history(group.id, "after=5&limit=3");
		expect(end.messages.map((m) => m.seq)).toEqual([6, 7]);
		expect(end.hasMore).toBe(false);
		const down = await alice.history(group.id, "before=6&limit=3");
		expect(down.messages.map((m) => m.seq)).toEqual([5, 4, 3]);
		expect(down.hasMore).toBe(true);
		const latest = await alice.history(group.id, "limit=2");
		expect(latest.messages.map((m) => m.seq)).toEqual([7, 6]);
		for (const query of ["after=1&before=3", "limit=0", "limit=201", "after=-1", "after=abc"]) {
			await expectError(
				await alice.call(`/v1/conversations/${group.id}/messages?${query}`),
				400,
				"bad_request",
			);
		}
	});

	it("refuses bad message bodies without storing anything", async () => {
		const tenant = await createUnlimitedTenant();
		const alice = await User.create(tenant, "alice");
		const group = await alice.createGroup([]);
		const post = (body: unknown) => alice.call(`/v1/conversations/${group.id}/messages`, { body });
		await expectError(await post({ text: "no client id" }), 400, "bad_request");
		await expectError(await post({ clientId: "", text: "x" }), 400, "bad_request");
		await expectError(await post({ clientId: "x".repeat(65), text: "x" }), 400, "bad_request");
		await expectError(await post({ clientId: "a" }), 400, "text_required");
		await expectError(await post({ clientId: "a", text: "   \n" }), 400, "text_required");
		await expectError(await post({ clientId: "a", text: 42 }), 400, "bad_request");
		await expectError(await post({ clientId: "a", text: "x", senderId: "bob" }), 400, "bad_request");
		await expectError(await post({ clientId: "a", text: "é".repeat(8 * 1024 + 1) }), 413, "text_too_long");
		await expectError(await post({ clientId: "a", text: "x", replyTo: 1 }), 400, "invalid_reply_to");
		await expectError(await post({ clientId: "a", text: "x", replyTo: 0 }), 400, "bad_request");
		await expectError(
			await post({ clientId: "a", text: "x", attachments: ["m_nope"] }),
			400,
			"invalid_attachment",
		);
		await expectError(
			await alice.call(`/v1/conversations/${group.id}/messages`, {
				rawBody: "clientId=a",
				headers: { "content-type": "application/x-www-form-urlencoded" },
			}),
			415,
			"unsupported_media_type",
		);
		expect((await alice.history(group.id)).messages).toEqual([]);
		// The limit itself is allowed: 16 KiB of UTF-8 exactly.
		const max = await alice.send(group.id, "é".repeat(8 * 1024));
		expect(max.seq).toBe(1);
		const reply = await json<{ message: Message }>(
			await post({ clientId: "r", text: "re", replyTo: 1 }),
			201,
		);
		expect(reply.message.replyTo).toBe(1);
	});

	it("refuses messages from non-members and removed members", async () => {
		const tenant = await createTenant();
		const alice = await User.create(tenant, "alice");
		const bob = await User.create(tenant, "bob");
		const mallory = await User.create(tenant, "mallory");
		const group = await alice.createGroup(["bob"]);
		await bob.send(group.id, "hi");
		await expectError(
			await mallory.call(`/v1/conversations/${group.id}/messages`, { body: { clientId: "m", text: "hi" } }),
			404,
			"conversation_not_found",
		);
		await alice.call(`/v1/conversations/${group.id}/members/bob`, { method: "DELETE" });
		await expectError(
			await bob.call(`/v1/conversations/${group.id}/messages`, {
				body: { clientId: "b2", text: "still here?" },
			}),
			404,
			"conversation_not_found",
		);
	});

	it("limits each sender to a burst of 20 then answers 429 with Retry-After", async () => {
		// A refill of one token per 100 s: however slowly the machine runs the 25 sends, none refills.
		const tenant = await createTenant({ sendRate: { perSecond: 0.01, burst: 20 } });
		const alice = await User.create(tenant, "alice");
		const bob = await User.create(tenant, "bob");
		const group = await alice.createGroup(["bob"]);
		const statuses: number[] = [];
		let limited: Response | null = null;
		for (let i = 0; i < 25; i++) {
			const response = await alice.call(`/v1/conversations/${group.id}/messages`, {
				body: { clientId: `c${i}`, text: "x" },
			});
			statuses.push(response.status);
			if (response.status === 429 && !limited) limited = response;
			else await response.body?.cancel();
		}
		expect(statuses).toEqual([...Array(20).fill(201), ...Array(5).fill(429)]);
		expect(limited).not.toBeNull();
		expect(Number(limited?.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
		await expectError(limited as Response, 429, "rate_limited");
		// Another sender has a bucket of their own, and a retry of a stored message is never limited.
		expect(
			(await bob.call(`/v1/conversations/${group.id}/messages`, { body: { clientId: "b", text: "x" } }))
				.status,
		).toBe(201);
		expect(
			(await alice.call(`/v1/conversations/${group.id}/messages`, { body: { clientId: "c0", text: "x" } }))
				.status,
		).toBe(200);
		const seqs = (await alice.history(group.id)).messages.map((m) => m.seq);
		expect(seqs).toEqual(Array.from({ length: seqs.length }, (_, i) => i + 1));
	});
});

describe("read marks over HTTP", () => {
	it("stores the read seq, never moving it backwards, and refuses a seq beyond the last", async () => {
		const tenant = await createUnlimitedTenant();
		const alice = await User.create(tenant, "alice");
		const bob = await User.create(tenant, "bob");
		const group = await alice.createGroup(["bob"]);
		for (let i = 0; i < 3; i++) await alice.send(group.id, `m${i}`);
		const read = (seq: unknown) => bob.call(`/v1/conversations/${group.id}/read`, { body: { seq } });
		expect((await read(2)).status).toBe(204);
		expect((await read(1)).status).toBe(204);
		await expectError(await read(4), 400, "invalid_seq");
		await expectError(await read(-1), 400, "bad_request");
		await expectError(await read("2"), 400, "bad_request");
		const view = await json<{ conversation: ConversationView }>(
			await bob.call(`/v1/conversations/${group.id}`),
			200,
		);
		expect(view.conversation.members.find((m) => m.userId === "bob")?.readSeq).toBe(2);
	});
});

describe("routing", () => {
	it("answers unknown routes and non-upgrade socket requests with the error body", async () => {
		const tenant = await createTenant();
		const alice = await User.create(tenant, `u_${nanoid(5)}`);
		await expectError(await alice.call("/v1/nothing-here"), 404, "not_found");
		const group = await alice.createGroup([]);
		await expectError(await alice.call(`/v1/conversations/${group.id}/ws`), 426, "upgrade_required");
	});
});
