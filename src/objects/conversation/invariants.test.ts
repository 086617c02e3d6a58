/**
 * The Conversation object's invariants under random command sequences (fast-check): sends from
 * members and outsiders, retries that reuse a clientId, read marks (some beyond the last message),
 * members joining. Afterwards the history is gap-free from seq 1, holds each (sender, clientId) once
 * with the text of its first send, and every member's unread count in their conversation list is
 * the reference model's.
 */
import { describe, expect, it } from "vitest";
import { createUnlimitedTenant, json, User } from "../../../test/helpers";
import { conversationsOf, drainOutbox } from "../../../test/inbox";
import { checkAsync, fc } from "../../../test/property";
import type { Message } from "../../protocol";

const USERS = ["alice", "bob", "carol", "dave"] as const;
type UserName = (typeof USERS)[number];

type Command =
	| { kind: "send"; by: UserName; clientId: string; text: string }
	| { kind: "read"; by: UserName; seq: number }
	| { kind: "join"; who: UserName };

const command: fc.Arbitrary<Command> = fc.oneof(
	{
		weight: 5,
		arbitrary: fc.record({
			kind: fc.constant("send" as const),
			by: fc.constantFrom(...USERS),
			// A small pool, so that retries of one clientId come up often.
			clientId: fc.constantFrom("c0", "c1", "c2", "c3", "😀".repeat(33)),
			text: fc.string({ unit: "grapheme", minLength: 1, maxLength: 12 }).filter((t) => t.trim() !== ""),
		}),
	},
	{
		weight: 2,
		arbitrary: fc.record({
			kind: fc.constant("read" as const),
			by: fc.constantFrom(...USERS),
			seq: fc.nat(12),
		}),
	},
	{
		weight: 1,
		arbitrary: fc.record({ kind: fc.constant("join" as const), who: fc.constantFrom("carol", "dave") }),
	},
);

/** What the conversation must hold after the commands, computed without it. */
class Model {
	readonly messages: { seq: number; sender: UserName; clientId: string; text: string }[] = [];
	readonly members = new Map<UserName, { readSeq: number; joinedSeq: number }>([
		["alice", { readSeq: 0, joinedSeq: 0 }],
		["bob", { readSeq: 0, joinedSeq: 0 }],
	]);

	get lastSeq(): number {
		return this.messages.length;
	}

	unread(user: UserName): number {
		const member = this.members.get(user);
		if (!member) throw new Error(`${user} is no member`);
		const since = Math.max(member.readSeq, member.joinedSeq);
		return this.messages.filter((m) => m.seq > since && m.sender !== user).length;
	}
}

/** One tenant and its users for every run; each run has a conversation of its own. */
async function world() {
	const tenant = await createUnlimitedTenant();
	const users = Object.fromEntries(
		await Promise.all(USERS.map(async (name) => [name, await User.create(tenant, name)] as const)),
	) as Record<UserName, User>;
	return { tenant, users };
}

async function run({ tenant, users }: Awaited<ReturnType<typeof world>>, commands: Command[]): Promise<void> {
	const { id } = await users.alice.createGroup(["bob"]);
	const model = new Model();

	for (const c of commands) {
		if (c.kind === "send") {
			const response = await users[c.by].call(`/v1/conversations/${id}/messages`, {
				body: { clientId: c.clientId, text: c.text },
			});
			if (!model.members.has(c.by)) {
				expect(response.status).toBe(404);
				continue;
			}
			const original = model.messages.find((m) => m.sender === c.by && m.clientId === c.clientId);
			const { message } = await json<{ message: Message }>(response, original ? 200 : 201);
			if (original) expect(message).toMatchObject({ seq: original.seq, text: original.text });
			else {
				expect(message.seq).toBe(model.lastSeq + 1);
				model.messages.push({ seq: message.seq, sender: c.by, clientId: c.clientId, text: c.text });
			}
		} else if (c.kind === "read") {
			const response = await users[c.by].call(`/v1/conversations/${id}/read`, { body: { seq: c.seq } });
			const member = model.members.get(c.by);
			if (!member) expect(response.status).toBe(404);
			else if (c.seq > model.lastSeq) expect(response.status).toBe(400);
			else {
				expect(response.status).toBe(204);
				member.readSeq = Math.max(member.readSeq, c.seq);
			}
		} else {
			const response = await users.alice.call(`/v1/conversations/${id}/members`, {
				body: { userIds: [c.who] },
			});
			expect(response.status).toBe(200);
			if (!model.members.has(c.who)) model.members.set(c.who, { readSeq: 0, joinedSeq: model.lastSeq });
		}
	}

	const history = await users.alice.history(id);
	expect(history.messages.map((m) => m.seq)).toEqual(model.messages.map((m) => m.seq));
	expect(history.messages.map((m) => m.seq)).toEqual(Array.from({ length: model.lastSeq }, (_, i) => i + 1));
	const keys = history.messages.map((m) => `${m.senderId}/${m.clientId}`);
	expect(new Set(keys).size).toBe(keys.length);
	expect(history.messages.map((m) => m.text)).toEqual(model.messages.map((m) => m.text));

	await drainOutbox(tenant, id);
	for (const [name] of model.members) {
		const row = (await conversationsOf(users[name])).conversations.find((c) => c.id === id);
		expect(row, name).toMatchObject({ lastSeq: model.lastSeq, unreadCount: model.unread(name) });
	}
}

describe("a conversation under random commands", () => {
	it("keeps seqs gap-free, each (sender, clientId) once, and unread counts as the model says", async () => {
		const shared = await world();
		await checkAsync(
			fc.asyncProperty(fc.array(command, { minLength: 1, maxLength: 20 }), (commands) =>
				run(shared, commands),
			),
			12,
		);
	}, 60_000);
});
