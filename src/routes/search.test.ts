import { describe, expect, it } from "vitest";
import { call, createUnlimitedTenant, expectError, json, User } from "../../test/helpers";
import { drainMirror } from "../../test/mirror";
import type { Message } from "../protocol";

interface SearchPage {
	messages: Message[];
	nextCursor: string | null;
}

async function search(user: User, query: string): Promise<SearchPage> {
	return json<SearchPage>(await user.call(`/v1/search?${query}`), 200);
}

async function setup() {
	const tenant = await createUnlimitedTenant();
	const alice = await User.create(tenant, "alice");
	const bob = await User.create(tenant, "bob");
	const carol = await User.create(tenant, "carol");
	const withBob = await alice.createGroup(["bob"]);
	const withCarol = await alice.createGroup(["carol"]);
	const a1 = await alice.send(withBob.id, "the banana plan for bob");
	const c1 = await carol.send(withCarol.id, "carol likes banana bread");
	const b1 = await bob.send(withBob.id, "no bananas here, only apples");
	const a2 = await alice.send(withCarol.id, "Banana split tonight?");
	await drainMirror(tenant, withBob.id);
	await drainMirror(tenant, withCarol.id);
	return { tenant, alice, bob, carol, withBob, withCarol, a1, c1, b1, a2 };
}

describe("GET /v1/search", () => {
	it("finds words in the user's conversations, newest first, prefixes included", async () => {
		const { alice, a1, c1, b1, a2 } = await setup();
		const page = await search(alice, "q=banana");
		expect(page.messages.map((m) => m.id)).toEqual([a2.id, b1.id, c1.id, a1.id]);
		expect(page.nextCursor).toBeNull();
		expect(page.messages[0]).toEqual(a2);
		expect((await search(alice, "q=banana%20bread")).messages.map((m) => m.id)).toEqual([c1.id]);
		expect((await search(alice, "q=kiwi")).messages).toEqual([]);
	});

	it("never shows a conversation the user is not a member of", async () => {
		const { bob, carol, a1, b1, c1, a2 } = await setup();
		expect((await search(bob, "q=banana")).messages.map((m) => m.id)).toEqual([b1.id, a1.id]);
		expect((await search(carol, "q=banana")).messages.map((m) => m.id)).toEqual([a2.id, c1.id]);
	});

	it("stops showing a conversation once the user has been removed from it", async () => {
		const { tenant, alice, bob, withBob } = await setup();
		expect(
			(await alice.call(`/v1/conversations/${withBob.id}/members/bob`, { method: "DELETE" })).status,
		).toBe(204);
		await drainMirror(tenant, withBob.id);
		expect((await search(bob, "q=banana")).messages).toEqual([]);
	});

	it("never shows another tenant's messages, even to a user with the same id", async () => {
		await setup();
		const other = await createUnlimitedTenant();
		const otherAlice = await User.create(other, "alice");
		expect((await search(otherAlice, "q=banana")).messages).toEqual([]);
	});

	it("narrows to one conversation, and refuses nothing but shows nothing for one the user is not in", async () => {
		const { alice, bob, withCarol, c1, a2 } = await setup();
		expect(
			(await search(alice, `q=banana&conversationId=${withCarol.id}`)).messages.map((m) => m.id),
		).toEqual([a2.id, c1.id]);
		expect((await search(bob, `q=banana&conversationId=${withCarol.id}`)).messages).toEqual([]);
	});

	it("pages with nextCursor through every match exactly once", async () => {
		const { alice, a1, c1, b1, a2 } = await setup();
		const seen: string[] = [];
		let cursor: string | null = null;
		do {
			const page: SearchPage = await search(alice, `q=banana&limit=1${cursor ? `&cursor=${cursor}` : ""}`);
			expect(page.messages.length).toBeLessThanOrEqual(1);
			seen.push(...page.messages.map((m) => m.id));
			cursor = page.nextCursor;
		} while (cursor);
		expect(seen).toEqual([a2.id, b1.id, c1.id, a1.id]);
	});

	it("treats search syntax in the query as plain words", async () => {
		const { alice, a1 } = await setup();
		for (const q of ['plan"', "(bob", "plan*", "bob:"]) {
			expect((await search(alice, `q=${encodeURIComponent(q)}`)).messages.map((m) => m.id)).toEqual([a1.id]);
		}
		// Operators are words like any other: here, words no message has.
		expect((await search(alice, `q=${encodeURIComponent("banana OR kiwi")}`)).messages).toEqual([]);
		expect((await search(alice, `q=${encodeURIComponent("NEAR(banana")}`)).messages).toEqual([]);
	});

	it("refuses a bad query, a bad cursor and a caller without a token", async () => {
		const { tenant, alice } = await setup();
		await expectError(await alice.call("/v1/search"), 400, "bad_request");
		await expectError(await alice.call("/v1/search?q=%20%20"), 400, "bad_request");
		await expectError(await alice.call("/v1/search?q=***"), 400, "bad_request");
		await expectError(await alice.call("/v1/search?q=banana&cursor=nope"), 400, "bad_request");
		await expectError(await alice.call("/v1/search?q=banana&limit=500"), 400, "bad_request");
		await expectError(await call(tenant.host, "/v1/search?q=banana"), 401, "unauthorized");
	});
});
