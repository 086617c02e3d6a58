import { evictDurableObject, runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { createUnlimitedTenant, type TestTenant, User } from "../../../test/helpers";
import { connectInbox, conversationsOf, drainOutbox, inboxOf } from "../../../test/inbox";
import { dueAt, scheduleNow } from "../../../test/work";
import type { ConversationSummary, InboxServerFrame } from "../../protocol";
import { conversationStub } from "../names";
import { INBOX_WORK, LIST_REFRESH_WITH_DEVICES_MS, LIST_REFRESHES_PER_DRAIN } from "./deliver";

/** One drain of the room's inbox outbox, as its alarm would run it now: refresh schedules hold. */
async function drainOnce(tenant: TestTenant, conversationId: string): Promise<void> {
	const room = conversationStub(env, tenant.id, conversationId);
	await scheduleNow(room, INBOX_WORK);
	await runDurableObjectAlarm(room);
}

/** When each member's inbox last took their row of the list (inbox_sync.refreshed_at). */
function refreshTimes(tenant: TestTenant, conversationId: string) {
	return runInDurableObject(conversationStub(env, tenant.id, conversationId), (_o, state) =>
		Object.fromEntries(
			state.storage.sql
				.exec<{ user_id: string; refreshed_at: number }>("SELECT user_id, refreshed_at FROM inbox_sync")
				.toArray()
				.map((row) => [row.user_id, row.refreshed_at]),
		),
	);
}

/** Moves every member's last refresh back by `ms`, as time passing would. */
function ageRefreshes(tenant: TestTenant, conversationId: string, ms: number) {
	return runInDurableObject(conversationStub(env, tenant.id, conversationId), (_o, state) => {
		state.storage.sql.exec("UPDATE inbox_sync SET refreshed_at = refreshed_at - ?", ms);
	});
}

const rowOf = async (user: User, conversationId: string): Promise<ConversationSummary | undefined> =>
	(await conversationsOf(user)).conversations.find((c) => c.id === conversationId);

describe("what a message costs the members' inboxes", () => {
	it("calls no inbox of a member who has the room open, and makes their row exact when they leave", async () => {
		const tenant = await createUnlimitedTenant();
		const [alice, bob, carol] = await Promise.all([0, 1, 2].map(() => User.create(tenant)));
		if (!alice || !bob || !carol) throw new Error("users");
		const group = await alice.createGroup([bob.id, carol.id]);
		await drainOutbox(tenant, group.id);
		const bobSocket = await bob.connect(group.id);
		await bobSocket.next("ready");
		const before = await refreshTimes(tenant, group.id);

		for (let i = 1; i <= 3; i++) await alice.send(group.id, `m${i}`);
		await bobSocket.messages(3);
		await drainOnce(tenant, group.id);

		// Carol had no socket: her entries and her row came at once. Bob saw the messages live, and no
		// other device of his shows the list: his inbox was not called.
		expect((await inboxOf(carol)).entries.map((e) => e.message.seq)).toEqual([1, 2, 3]);
		expect(await rowOf(carol, group.id)).toMatchObject({ lastSeq: 3, unreadCount: 3 });
		expect((await refreshTimes(tenant, group.id))[bob.id]).toBe(before[bob.id]);
		expect(await rowOf(bob, group.id)).toMatchObject({ lastSeq: 0 });

		// Nobody else is owed anything, and bob's refresh arms no alarm: an idle room may hibernate.
		expect(await dueAt(conversationStub(env, tenant.id, group.id), INBOX_WORK)).toBeNull();

		bobSocket.close();
		await bobSocket.closed();
		await drainOnce(tenant, group.id);
		expect(await rowOf(bob, group.id)).toMatchObject({ lastSeq: 3, unreadCount: 3 });
		// What bob saw live is not in his inbox as entries.
		expect((await inboxOf(bob)).entries).toEqual([]);
	});

	it("refreshes the row of a member with the room open on schedule while another device shows the list", async () => {
		const tenant = await createUnlimitedTenant();
		const alice = await User.create(tenant);
		const bob = await User.create(tenant);
		const phone = await connectInbox(bob); // bob's list is on screen on another device
		await phone.next("ready");
		const group = await alice.createGroup([bob.id]);
		await drainOutbox(tenant, group.id);
		await phone.next("conversation.updated");
		const laptop = await bob.connect(group.id);
		await laptop.next("ready");

		await alice.send(group.id, "hello");
		await drainOnce(tenant, group.id);
		// Refreshed moments ago: the next one is due within LIST_REFRESH_WITH_DEVICES_MS, not now.
		expect(phone.frames.filter((f) => f.type === "conversation.updated")).toEqual([]);
		await ageRefreshes(tenant, group.id, LIST_REFRESH_WITH_DEVICES_MS);
		await drainOnce(tenant, group.id);
		const updated =
			await phone.next<Extract<InboxServerFrame, { type: "conversation.updated" }>>("conversation.updated");
		expect(updated.conversation).toMatchObject({ id: group.id, lastSeq: 1, unreadCount: 1 });
		phone.close();
		laptop.close();
	});

	it("announces live deliveries at once, and keeps them through an eviction before they were written", async () => {
		const tenant = await createUnlimitedTenant();
		const alice = await User.create(tenant);
		const bob = await User.create(tenant);
		const group = await alice.createGroup([bob.id]);
		const aliceSocket = await alice.connect(group.id);
		const bobSocket = await bob.connect(group.id);
		await aliceSocket.next("ready");
		await bobSocket.next("ready");
		aliceSocket.send({ type: "message.send", clientId: "c1", text: "hi" });
		// No drain has run: the receipt comes from the send itself.
		expect(await aliceSocket.next("delivered.updated")).toMatchObject({ userId: bob.id, seq: 1 });

		await evictDurableObject(conversationStub(env, tenant.id, group.id));
		await drainOutbox(tenant, group.id);
		const view = await bob.call(`/v1/conversations/${group.id}`);
		const { conversation } = (await view.json()) as {
			conversation: { members: { userId: string; deliveredSeq: number }[] };
		};
		expect(conversation.members.find((m) => m.userId === bob.id)?.deliveredSeq).toBe(1);
		aliceSocket.close();
		bobSocket.close();
	});

	it("spreads a busy room's list refreshes over drains", async () => {
		const tenant = await createUnlimitedTenant();
		const owner = await User.create(tenant);
		const others = await Promise.all(Array.from({ length: 29 }, () => User.create(tenant)));
		const group = await owner.createGroup(others.map((u) => u.id));
		await drainOutbox(tenant, group.id);
		const sockets = await Promise.all(others.map((u) => u.connect(group.id)));
		await Promise.all(sockets.map((s) => s.next("ready")));
		await owner.send(group.id, "to everyone here");
		await ageRefreshes(tenant, group.id, 3_600_000);
		const aged = await refreshTimes(tenant, group.id);

		await drainOnce(tenant, group.id);
		const first = await refreshTimes(tenant, group.id);
		// The owner sent over HTTP without the room open; the 29 others have it open. All 30 are due.
		const refreshed = (times: Record<string, number>) =>
			[owner, ...others].filter((u) => (times[u.id] ?? 0) > (aged[u.id] ?? 0)).length;
		expect(refreshed(first)).toBe(LIST_REFRESHES_PER_DRAIN);
		await drainOnce(tenant, group.id);
		expect(refreshed(await refreshTimes(tenant, group.id))).toBe(others.length + 1);
		for (const socket of sockets) socket.close();
	});
});
