import { describe, expect, it } from "vitest";
import { call, createTenant, createUnlimitedTenant, expectError, User } from "../../test/helpers";
import { drainMirror, sendMany } from "../../test/mirror";
import { TUNING } from "../config";
import { LIMITS, type Message } from "../protocol";

async function exportLines(host: string, apiKey: string, conversationId: string) {
	const response = await call(host, `/v1/admin/conversations/${conversationId}/export`, { token: apiKey });
	expect(response.status).toBe(200);
	expect(response.headers.get("content-type")).toMatch(/^application\/x-ndjson/);
	const text = new TextDecoder().decode(await response.arrayBuffer());
	expect(text.endsWith("\n")).toBe(true);
	return {
		mirroredSeq: Number(response.headers.get("x-edgechat-mirrored-seq")),
		messages: text
			.trimEnd()
			.split("\n")
			.map((line) => JSON.parse(line) as Message),
	};
}

describe("GET /v1/admin/conversations/:id/export", () => {
	it("streams the whole history as NDJSON in seq order, across several internal pages", async () => {
		const tenant = await createUnlimitedTenant();
		const alice = await User.create(tenant, "alice");
		const group = await alice.createGroup(["bob"]);
		const count = TUNING.exportPage * 2 + 17;
		await sendMany(alice, group.id, count, 25);
		await drainMirror(tenant, group.id);

		const exported = await exportLines(tenant.host, tenant.apiKey, group.id);
		expect(exported.mirroredSeq).toBe(count);
		expect(exported.messages.map((m) => m.seq)).toEqual(Array.from({ length: count }, (_, i) => i + 1));
		// Line for line what the conversation itself serves.
		const history: Message[] = [];
		for (let after = 0; after < count; after += LIMITS.historyPage) {
			history.push(...(await alice.history(group.id, `after=${after}&limit=${LIMITS.historyPage}`)).messages);
		}
		expect(exported.messages).toEqual(history);
	});

	it("exports a conversation without messages as an empty body", async () => {
		const tenant = await createUnlimitedTenant();
		const alice = await User.create(tenant, "alice");
		const empty = await alice.createGroup(["bob"]);
		await drainMirror(tenant, empty.id);
		const response = await call(tenant.host, `/v1/admin/conversations/${empty.id}/export`, {
			token: tenant.apiKey,
		});
		expect(response.status).toBe(200);
		expect((await response.arrayBuffer()).byteLength).toBe(0);
	});

	it("needs the tenant's own API key, and finds only the tenant's conversations", async () => {
		const tenant = await createTenant();
		const alice = await User.create(tenant, "alice");
		const group = await alice.createGroup(["bob"]);
		await alice.send(group.id, "secret");
		await drainMirror(tenant, group.id);
		const path = `/v1/admin/conversations/${group.id}/export`;
		await expectError(await call(tenant.host, path), 401, "unauthorized");
		await expectError(await alice.call(path), 401, "unauthorized");

		const other = await createTenant();
		// Another tenant's key on this tenant's host, and this conversation's id on the other tenant's host.
		await expectError(await call(tenant.host, path, { token: other.apiKey }), 401, "unauthorized");
		await expectError(await call(other.host, path, { token: other.apiKey }), 404, "conversation_not_found");
	});
});
