import { evictDurableObject, runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import {
	createTenant,
	createUnlimitedTenant,
	expectError,
	type Frame,
	json,
	type Socket,
	User,
} from "../../../test/helpers";
import { ack, connectInbox, conversationsOf, drainOutbox, drainReceipts, inboxOf } from "../../../test/inbox";
import { dueAt, scheduleNow } from "../../../test/work";
import { TUNING } from "../../config";
import type {
	ConversationSummary,
	ConversationView,
	InboxEntry,
	InboxServerFrame,
	Message,
} from "../../protocol";
import { INBOX_LIMITS } from "../../protocol";
import { INBOX_WORK } from "../conversation/deliver";
import { conversationStub, inboxStub } from "../names";
import type { Inbox } from "./inbox";
import { RETENTION_WORK } from "./mailbox";

type EntryFrame = Extract<InboxServerFrame, { type: "inbox.entry" }>;

/** The next `delivered.updated` about `userId`; frames about other members are skipped. */
async function deliveredFor(socket: Socket, userId: string): Promise<Frame> {
	for (;;) {
		const frame = await socket.next("delivered.updated");
		if (frame.userId === userId) return frame;
	}
}

async function setUp(memberCount: number) {
	const tenant = await createUnlimitedTenant();
	const users = await Promise.all(Array.from({ length: memberCount }, () => User.create(tenant)));
	const [owner, ...others] = users as [User, ...User[]];
	const group = await owner.createGroup(
		others.map((u) => u.id),
		"team",
	);
	return { tenant, users, owner, others, group };
}

function seqsOf(entries: InboxEntry[]): number[] {
	return entries.map((entry) => entry.message.seq);
}

describe("offline delivery", () => {
	it("an offline member receives every message in order through the inbox, once", async () => {
		const { tenant, owner, others, group } = await setUp(2);
		const bob = others[0] as User;
		const sent: Message[] = [];
		for (let i = 1; i <= 30; i++) sent.push(await owner.send(group.id, `message ${i}`));
		await drainOutbox(tenant, group.id);
		// A second drain has nothing to add.
		await drainOutbox(tenant, group.id);

		const { entries, nextCursor } = await inboxOf(bob, "?limit=500");
		expect(nextCursor).toBeNull();
		expect(entries.map((e) => e.message)).toEqual(sent);
		expect(entries.every((e) => e.conversationId === group.id)).toBe(true);
		const cursors = entries.map((e) => e.cursor);
		expect(cursors).toEqual([...cursors].sort((a, b) => a - b));
		expect(new Set(cursors).size).toBe(30);
		// The sender's own messages are not notifications for them.
		expect((await inboxOf(owner)).entries).toEqual([]);
	});

	it("a member with the conversation open gets no entry for what arrived while it was open", async () => {
		const { tenant, owner, others, group } = await setUp(3);
		const [bob, carol] = others as [User, User];
		const socket = await bob.connect(group.id);
		await socket.next("ready");
		await owner.send(group.id, "while bob is here");
		await socket.messages(1);
		socket.close();
		await socket.closed();
		await owner.send(group.id, "after bob left");
		await drainOutbox(tenant, group.id);

		expect(seqsOf((await inboxOf(bob)).entries)).toEqual([2]);
		expect(seqsOf((await inboxOf(carol)).entries)).toEqual([1, 2]);
	});

	it("ack drops exactly the entries through the cursor, and pages the rest", async () => {
		const { tenant, owner, others, group } = await setUp(2);
		const bob = others[0] as User;
		for (let i = 1; i <= 5; i++) await owner.send(group.id, `m${i}`);
		await drainOutbox(tenant, group.id);
		const { entries } = await inboxOf(bob);
		const third = entries[2] as InboxEntry;

		await ack(bob, third.cursor);
		const left = await inboxOf(bob);
		expect(seqsOf(left.entries)).toEqual([4, 5]);

		const firstPage = await inboxOf(bob, "?limit=1");
		expect(seqsOf(firstPage.entries)).toEqual([4]);
		expect(firstPage.nextCursor).toBe(firstPage.entries[0]?.cursor);
		const secondPage = await inboxOf(bob, `?after=${firstPage.nextCursor}&limit=1`);
		expect(seqsOf(secondPage.entries)).toEqual([5]);
		expect(secondPage.nextCursor).toBeNull();

		// Acking an older cursor again changes nothing.
		await ack(bob, third.cursor);
		expect(seqsOf((await inboxOf(bob)).entries)).toEqual([4, 5]);
		await expectError(await bob.call("/v1/inbox/ack", { body: { cursor: -1 } }), 400, "bad_request");
		// A cursor never handed out is a client bug: refused, and nothing is dropped.
		await expectError(await bob.call("/v1/inbox/ack", { body: { cursor: 10_000 } }), 400, "invalid_cursor");
		expect(seqsOf((await inboxOf(bob)).entries)).toEqual([4, 5]);
	});

	it("an inbox that fails for a while still ends with each entry exactly once", async () => {
		const { tenant, owner, others, group } = await setUp(3);
		const [bob, carol] = others as [User, User];
		const bobInbox = inboxStub(env, tenant.id, bob.id);
		await bobInbox.injectFaults(3);
		for (let i = 1; i <= 4; i++) await owner.send(group.id, `m${i}`);
		await drainOutbox(tenant, group.id);
		await owner.send(group.id, "m5");
		await drainOutbox(tenant, group.id);

		// Every injected fault was hit, so the delivery to bob failed three times before it landed.
		const faultsLeft = await runInDurableObject(bobInbox, (_inbox: Inbox, state) =>
			state.storage.sql.exec<{ value: string }>("SELECT value FROM meta WHERE key = 'fail_applies'").one(),
		);
		expect(faultsLeft.value).toBe("0");
		expect(seqsOf((await inboxOf(bob)).entries)).toEqual([1, 2, 3, 4, 5]);
		expect(seqsOf((await inboxOf(carol)).entries)).toEqual([1, 2, 3, 4, 5]);
		const [row] = (await conversationsOf(bob)).conversations;
		expect(row).toMatchObject({ id: group.id, lastSeq: 5, unreadCount: 5 });
	});

	it("an unreachable inbox backs off on its own without holding up the other members", async () => {
		const { tenant, owner, others, group } = await setUp(3);
		const [bob, carol] = others as [User, User];
		const bobInbox = inboxStub(env, tenant.id, bob.id);
		await bobInbox.injectFaults(1_000_000);
		const room = conversationStub(env, tenant.id, group.id);
		const drainOnce = async () => {
			await scheduleNow(room, INBOX_WORK);
			await runDurableObjectAlarm(room);
		};
		await owner.send(group.id, "m1");
		await drainOnce(); // bob's delivery fails
		const bobRetryAt = () =>
			runInDurableObject(room, (_object, state) =>
				state.storage.sql
					.exec<{ retry_at: number; attempts: number }>(
						"SELECT retry_at, attempts FROM inbox_sync WHERE user_id = ?",
						bob.id,
					)
					.one(),
			);
		expect((await bobRetryAt()).attempts).toBeGreaterThan(0);
		expect(seqsOf((await inboxOf(carol)).entries)).toEqual([1]);

		// While bob backs off, a new message reaches carol at once: one alarm run, no waiting.
		await owner.send(group.id, "m2");
		const before = await bobRetryAt();
		expect(before.retry_at).toBeGreaterThan(Date.now());
		await drainOnce();
		expect(seqsOf((await inboxOf(carol)).entries)).toEqual([1, 2]);
		expect((await inboxOf(bob)).entries).toEqual([]);
		expect((await bobRetryAt()).attempts).toBe(before.attempts); // not tried before its time

		await bobInbox.injectFaults(0);
		await drainOutbox(tenant, group.id);
		expect(seqsOf((await inboxOf(bob)).entries)).toEqual([1, 2]);
		expect(await bobRetryAt()).toEqual({ retry_at: 0, attempts: 0 });
	});

	it("the inbox takes a repeated batch once, even after the entries were acked", async () => {
		const { tenant, owner, others, group } = await setUp(2);
		const bob = others[0] as User;
		await owner.send(group.id, "m1");
		await owner.send(group.id, "m2");
		await drainOutbox(tenant, group.id);
		const { entries } = await inboxOf(bob);
		expect(seqsOf(entries)).toEqual([1, 2]);
		const [summary] = (await conversationsOf(bob)).conversations as [ConversationSummary];
		const batch = {
			owner: { tenantId: tenant.id, userId: bob.id },
			conversationId: group.id,
			version: 1,
			entries: entries.map((e) => e.message),
			index: { ...summary, unreadCount: 99 },
		};
		const inbox = inboxStub(env, tenant.id, bob.id);
		await inbox.apply(batch);
		expect(seqsOf((await inboxOf(bob)).entries)).toEqual([1, 2]);
		await ack(bob, (entries[1] as InboxEntry).cursor);
		await inbox.apply(batch);
		expect((await inboxOf(bob)).entries).toEqual([]);
		// An older snapshot of the index does not replace a newer one.
		expect((await conversationsOf(bob)).conversations[0]?.unreadCount).toBe(2);
	});

	it("the outbox survives eviction between the send and the drain", async () => {
		const { tenant, owner, others, group } = await setUp(2);
		const bob = others[0] as User;
		const bobInbox = inboxStub(env, tenant.id, bob.id);
		// Bob's inbox refuses every delivery until the test lifts the fault, so no drain can land early.
		await bobInbox.injectFaults(1_000_000);
		for (let i = 1; i <= 3; i++) await owner.send(group.id, `m${i}`);
		const room = conversationStub(env, tenant.id, group.id);
		expect((await inboxOf(bob)).entries).toEqual([]);

		await evictDurableObject(room);
		await evictDurableObject(bobInbox);
		await bobInbox.injectFaults(0);
		const pending = await dueAt(room, INBOX_WORK);
		expect(pending).not.toBeNull();
		await drainOutbox(tenant, group.id);
		expect(seqsOf((await inboxOf(bob)).entries)).toEqual([1, 2, 3]);
	});
});

describe("the conversation list", () => {
	it("counts unread messages from others, follows reads on another device and drops a removed member", async () => {
		const { tenant, owner, others, group } = await setUp(3);
		const [bob] = others as [User, User];
		await drainOutbox(tenant, group.id);
		const fresh = (await conversationsOf(bob)).conversations;
		expect(fresh).toEqual([
			expect.objectContaining({
				id: group.id,
				type: "group",
				title: "team",
				role: "member",
				lastSeq: 0,
				lastMessage: null,
				unreadCount: 0,
			}),
		]);

		for (let i = 1; i <= 3; i++) await owner.send(group.id, `from owner ${i}`);
		const own = await bob.send(group.id, "from bob");
		await drainOutbox(tenant, group.id);
		expect((await conversationsOf(bob)).conversations[0]).toMatchObject({
			lastSeq: 4,
			lastMessage: own,
			readSeq: 0,
			unreadCount: 3,
		});
		expect((await conversationsOf(owner)).conversations[0]).toMatchObject({ unreadCount: 1, role: "owner" });

		// Bob reads on one device; his other device hears of it on the inbox socket.
		const device = await connectInbox(bob);
		await device.next("ready");
		const read = await bob.call(`/v1/conversations/${group.id}/read`, { body: { seq: 2 } });
		expect(read.status).toBe(204);
		await drainOutbox(tenant, group.id);
		const updated =
			await device.next<Extract<InboxServerFrame, { type: "conversation.updated" }>>("conversation.updated");
		expect(updated.conversation).toMatchObject({ id: group.id, readSeq: 2, unreadCount: 1 });
		expect((await conversationsOf(bob)).conversations[0]).toMatchObject({ readSeq: 2, unreadCount: 1 });

		// Removed: the conversation leaves bob's list, and his device is told.
		const removed = await owner.call(`/v1/conversations/${group.id}/members/${bob.id}`, { method: "DELETE" });
		expect(removed.status).toBe(204);
		await drainOutbox(tenant, group.id);
		expect(await device.next("conversation.removed")).toMatchObject({ conversationId: group.id });
		expect((await conversationsOf(bob)).conversations).toEqual([]);
		device.close();
	});

	it("orders conversations by latest activity and pages them", async () => {
		const tenant = await createUnlimitedTenant();
		const alice = await User.create(tenant);
		const bob = await User.create(tenant);
		const groups: ConversationView[] = [];
		for (let i = 0; i < 3; i++) groups.push(await alice.createGroup([bob.id], `g${i}`));
		for (const group of groups) await alice.send(group.id, "hello");
		await alice.send((groups[0] as ConversationView).id, "again");
		for (const group of groups) await drainOutbox(tenant, group.id);

		const first = await conversationsOf(bob, "?limit=2");
		const order = [groups[0], groups[2], groups[1]].map((g) => g?.id);
		expect(first.conversations.map((c) => c.id)).toEqual(order.slice(0, 2));
		expect(first.nextCursor).not.toBeNull();
		const second = await conversationsOf(bob, `?limit=2&cursor=${first.nextCursor}`);
		expect(second.conversations.map((c) => c.id)).toEqual(order.slice(2));
		expect(second.nextCursor).toBeNull();
		expect((await conversationsOf(bob)).conversations.map((c) => c.unreadCount)).toEqual([2, 1, 1]);
	});

	it("needs a user token", async () => {
		const tenant = await createTenant();
		await expectError(
			await (await User.create(tenant)).call("/v1/conversations", { token: null }),
			401,
			"unauthorized",
		);
		await expectError(
			await (await User.create(tenant)).call("/v1/inbox", { token: null }),
			401,
			"unauthorized",
		);
	});
});

describe("the inbox socket", () => {
	it("pushes the backlog and then live entries to every connected device", async () => {
		const { tenant, owner, others, group } = await setUp(2);
		const bob = others[0] as User;
		await owner.send(group.id, "before");
		await drainOutbox(tenant, group.id);

		const phone = await connectInbox(bob);
		const laptop = await connectInbox(bob);
		for (const device of [phone, laptop]) {
			expect(await device.next("ready")).toMatchObject({ protocol: 1 });
			expect((await device.next<EntryFrame>("inbox.entry")).message.text).toBe("before");
		}
		await owner.send(group.id, "live 1");
		await owner.send(group.id, "live 2");
		await drainOutbox(tenant, group.id);
		for (const device of [phone, laptop]) {
			const live = [
				await device.next<EntryFrame>("inbox.entry"),
				await device.next<EntryFrame>("inbox.entry"),
			];
			expect(live.map((frame) => frame.message.text)).toEqual(["live 1", "live 2"]);
			expect(live.every((frame) => frame.conversationId === group.id)).toBe(true);
		}

		// An ack from one device drops the entries for all of them.
		const { entries } = await inboxOf(bob);
		phone.send({ type: "inbox.ack", cursor: entries.at(-1)?.cursor });
		await phone.flush();
		expect((await inboxOf(bob)).entries).toEqual([]);
		const tablet = await connectInbox(bob);
		expect(await tablet.next("ready")).toMatchObject({ lastCursor: entries.at(-1)?.cursor });
		await tablet.flush();
		expect(tablet.frames.filter((f) => f.type === "inbox.entry")).toEqual([]);
		for (const device of [phone, laptop, tablet]) device.close();
	});

	it("answers a bad frame with an error frame and stays open", async () => {
		const tenant = await createTenant();
		const bob = await User.create(tenant);
		const device = await connectInbox(bob);
		await device.next("ready");
		device.send("not json");
		expect(await device.next("error")).toMatchObject({ code: "invalid_json" });
		device.send({ type: "message.send", clientId: "x" });
		expect(await device.next("error")).toMatchObject({ code: "unknown_frame" });
		device.send({ type: "inbox.ack", cursor: -5 });
		expect(await device.next("error")).toMatchObject({ code: "bad_request" });
		device.send({ type: "inbox.ack", cursor: 99 });
		expect(await device.next("error")).toMatchObject({ code: "invalid_cursor" });
		device.send("x".repeat(70_000));
		expect(await device.next("error")).toMatchObject({ code: "frame_too_large" });
		await device.flush();
		expect(device.closeEvent).toBeNull();
		device.close();
	});

	it("refuses a plain HTTP request", async () => {
		const tenant = await createTenant();
		const bob = await User.create(tenant);
		await expectError(await bob.call("/v1/inbox/ws"), 426, "upgrade_required");
	});
});

describe("delivery receipts", () => {
	it("announces the live deliveries of one drain in a single frame per socket", async () => {
		const { tenant, owner, others, group } = await setUp(4);
		const watcher = await owner.connect(group.id);
		await watcher.next("ready");
		const live = await Promise.all(others.map((user) => user.connect(group.id)));
		for (const socket of live) await socket.next("ready");
		await owner.send(group.id, "to everyone");
		await drainOutbox(tenant, group.id);
		const moved = [];
		for (let i = 0; i < others.length; i++) moved.push(await watcher.next("delivered.updated"));
		expect(moved.map((f) => f.userId).sort()).toEqual(others.map((u) => u.id).sort());
		expect(moved.every((f) => f.seq === 1)).toBe(true);
		expect(watcher.batches).toBe(1); // one deliveries.updated frame carried the three receipts
		for (const socket of [watcher, ...live]) socket.close();
	});

	it("moves a member's delivered seq when a device acks or a live socket got the message", async () => {
		const { tenant, owner, others, group } = await setUp(3);
		const [bob, carol] = others as [User, User];
		const ownerSocket = await owner.connect(group.id);
		await ownerSocket.next("ready");
		const carolSocket = await carol.connect(group.id);
		await carolSocket.next("ready");
		for (let i = 1; i <= 3; i++) await owner.send(group.id, `m${i}`);
		await drainOutbox(tenant, group.id);

		// Carol had the conversation open: delivered by her socket, without any inbox entry.
		expect(await deliveredFor(ownerSocket, carol.id)).toEqual({
			type: "delivered.updated",
			userId: carol.id,
			seq: 3,
		});
		expect((await inboxOf(carol)).entries).toEqual([]);

		// Bob acks the second message from a device.
		const { entries } = await inboxOf(bob);
		await ack(bob, (entries[1] as InboxEntry).cursor);
		await drainReceipts(bob);
		expect(await deliveredFor(ownerSocket, bob.id)).toEqual({
			type: "delivered.updated",
			userId: bob.id,
			seq: 2,
		});
		const { conversation } = await json<{ conversation: ConversationView }>(
			await owner.call(`/v1/conversations/${group.id}`),
			200,
		);
		const byUser = new Map(conversation.members.map((m) => [m.userId, m]));
		expect(byUser.get(bob.id)).toMatchObject({ deliveredSeq: 2, readSeq: 0 });
		expect(byUser.get(carol.id)).toMatchObject({ deliveredSeq: 3 });
		ownerSocket.close();
		carolSocket.close();
	});
});

describe("retention", () => {
	it("drops unacked entries older than the retention period and keeps the rest", async () => {
		const { tenant, owner, others, group } = await setUp(2);
		const bob = others[0] as User;
		for (let i = 1; i <= 3; i++) await owner.send(group.id, `m${i}`);
		await drainOutbox(tenant, group.id);
		const { entries } = await inboxOf(bob);
		const inbox = inboxStub(env, tenant.id, bob.id);

		// Age the first two entries past the retention period, as a month offline would.
		const second = (entries[1] as InboxEntry).cursor;
		await runInDurableObject(inbox, (_object: Inbox, state) => {
			state.storage.sql.exec(
				"UPDATE entries SET created_at = created_at - ? WHERE cursor <= ?",
				TUNING.inboxRetentionMs + 1,
				second,
			);
		});
		await scheduleNow(inbox, RETENTION_WORK);
		expect(await runDurableObjectAlarm(inbox)).toBe(true);
		expect(seqsOf((await inboxOf(bob)).entries)).toEqual([3]);

		// The sweep re-armed itself for the entry that is left.
		const next = await dueAt(inbox, RETENTION_WORK);
		const oldestLeft = await runInDurableObject(inbox, (_object: Inbox, state) =>
			state.storage.sql.exec<{ at: number }>("SELECT MIN(created_at) AS at FROM entries").one(),
		);
		expect(next).toBe(oldestLeft.at + TUNING.inboxRetentionMs);
		expect(next).toBeGreaterThan(Date.now() + TUNING.inboxRetentionMs - 60_000);
	});
});

describe("a device catching up", () => {
	it("gets up to 10,000 entries in cursor order over the socket, then inbox.truncated, and pages the rest", async () => {
		const tenant = await createUnlimitedTenant();
		const bob = await User.create(tenant);
		const total = INBOX_LIMITS.replayEntries + 50;
		// A month of unacked entries, written into bob's inbox directly: sending them through rooms
		// would take minutes, and what is tested is the catch-up, not the delivery.
		await runInDurableObject(inboxStub(env, tenant.id, bob.id), (_inbox: Inbox, state) => {
			for (let i = 1; i <= total; i++) {
				const conversationId = `g_${i % 100}`;
				const message = {
					id: `m_${i}`,
					conversationId,
					seq: Math.ceil(i / 100),
					senderId: "alice",
					clientId: `c${i}`,
					text: `message ${i}`,
					attachments: [],
					replyTo: null,
					createdAt: new Date(i).toISOString(),
					editedAt: null,
					deletedAt: null,
				};
				state.storage.sql.exec(
					"INSERT INTO entries (conversation_id, seq, message, created_at) VALUES (?, ?, ?, ?)",
					conversationId,
					message.seq,
					JSON.stringify(message),
					Date.now(),
				);
			}
		});
		const device = await connectInbox(bob);
		expect(await device.next("ready")).toMatchObject({ lastCursor: total });
		const pushed: EntryFrame[] = [];
		for (let i = 0; i < INBOX_LIMITS.replayEntries; i++)
			pushed.push(await device.next<EntryFrame>("inbox.entry"));
		expect(pushed.map((e) => e.cursor)).toEqual(
			Array.from({ length: INBOX_LIMITS.replayEntries }, (_, i) => i + 1),
		);
		expect(await device.next("inbox.truncated")).toEqual({
			type: "inbox.truncated",
			cursor: INBOX_LIMITS.replayEntries,
		});
		// The frames carry exactly what the HTTP listing does.
		const { entries } = await inboxOf(bob, "?limit=3");
		expect(pushed.slice(0, 3).map(({ type: _type, ...entry }) => entry)).toEqual(entries);
		const rest = await inboxOf(bob, `?after=${INBOX_LIMITS.replayEntries}&limit=500`);
		expect(rest.entries.map((e) => e.cursor)).toEqual(
			Array.from({ length: 50 }, (_, i) => INBOX_LIMITS.replayEntries + i + 1),
		);
		expect(rest.nextCursor).toBeNull();
		device.close();
	}, 60_000);
});
