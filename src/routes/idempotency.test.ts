/**
 * Creations that can be retried safely: a group by its clientId, a media upload and the platform's
 * tenants and signing keys by an Idempotency-Key. A retry, also after the first answer was lost or the
 * object restarted, answers the original and creates nothing twice.
 */
import { evictDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { ADMIN_KEY, call, createTenant, expectError, json, User } from "../../test/helpers";
import { png, storedKeys, stream, text, upload } from "../../test/media";
import { conversationStub } from "../objects/names";
import type { ConversationView, CreatedTenant, Media } from "../protocol";
import { TEST_FAULT_HEADER } from "../test-hooks";

const createGroup = (user: User, body: Record<string, unknown>, headers: Record<string, string> = {}) =>
	user.call("/v1/conversations", { body: { type: "group", ...body }, headers });

describe("a group created with a clientId", () => {
	it("is created once: a retry by its creator answers the original, 200, whatever the retry's body", async () => {
		const tenant = await createTenant();
		const alice = await User.create(tenant, "alice");
		const first = await json<{ conversation: ConversationView }>(
			await createGroup(alice, { clientId: "g-1", title: "Lunch", memberIds: ["bob"] }),
			201,
		);
		// The first answer was lost: the client sends the same creation again, even after a restart.
		await evictDurableObject(conversationStub(env, tenant.id, first.conversation.id));
		const retry = await json<{ conversation: ConversationView }>(
			await createGroup(alice, { clientId: "g-1", title: "Lunch", memberIds: ["bob"] }),
			200,
		);
		expect(retry.conversation).toEqual(first.conversation);
		const changed = await json<{ conversation: ConversationView }>(
			await createGroup(alice, { clientId: "g-1", title: "Other", memberIds: ["carol"] }),
			200,
		);
		expect(changed.conversation).toEqual(first.conversation);

		// Another creator, or another clientId, is another group; without a clientId, every create is new.
		const bob = await User.create(tenant, "bob");
		const bobs = await json<{ conversation: ConversationView }>(
			await createGroup(bob, { clientId: "g-1", memberIds: [] }),
			201,
		);
		expect(bobs.conversation.id).not.toBe(first.conversation.id);
		const second = await json<{ conversation: ConversationView }>(
			await createGroup(alice, { clientId: "g-2", memberIds: [] }),
			201,
		);
		expect(second.conversation.id).not.toBe(first.conversation.id);
		const a = await json<{ conversation: ConversationView }>(
			await createGroup(alice, { memberIds: [] }),
			201,
		);
		const b = await json<{ conversation: ConversationView }>(
			await createGroup(alice, { memberIds: [] }),
			201,
		);
		expect(a.conversation.id).not.toBe(b.conversation.id);
	});

	it("is created by the retry when the first attempt failed, and not answered to a creator who left", async () => {
		const tenant = await createTenant();
		const alice = await User.create(tenant, "alice");
		const overloaded = await createGroup(
			alice,
			{ clientId: "g-x", memberIds: ["bob"] },
			{ [TEST_FAULT_HEADER]: "do-overloaded" },
		);
		await expectError(overloaded, 503, "unavailable");
		const created = await json<{ conversation: ConversationView }>(
			await createGroup(alice, { clientId: "g-x", memberIds: ["bob"] }),
			201,
		);
		await json(await createGroup(alice, { clientId: "g-x", memberIds: ["bob"] }), 200);

		const left = await alice.call(`/v1/conversations/${created.conversation.id}/members/alice`, {
			method: "DELETE",
		});
		expect(left.status).toBe(204);
		await expectError(
			await createGroup(alice, { clientId: "g-x", memberIds: ["bob"] }),
			404,
			"conversation_not_found",
		);
	});

	it("survives a create that the object's storage failure undid", async () => {
		const tenant = await createTenant();
		const alice = await User.create(tenant, "alice");
		// Where a retry will land: the id is derived from the creator and the clientId.
		const { groupConversationId } = await import("../objects/names");
		const id = await groupConversationId("alice", "g-undone");
		await conversationStub(env, tenant.id, id)
			.injectReset("create")
			.catch(() => {});
		await expectError(await createGroup(alice, { clientId: "g-undone", memberIds: [] }), 503, "unavailable");
		const created = await json<{ conversation: ConversationView }>(
			await createGroup(alice, { clientId: "g-undone", memberIds: [] }),
			201,
		);
		expect(created.conversation.id).toBe(id);
	});
});

describe("a media upload with an Idempotency-Key", () => {
	it("is stored once: a retry answers the original media without storing the bytes again", async () => {
		const tenant = await createTenant();
		const alice = await User.create(tenant, "alice");
		const group = await alice.createGroup([]);
		const key = { "idempotency-key": "upload-1" };
		const first = await json<{ media: Media }>(
			await upload(alice, group.id, png(7, 5, 200), "image/png", key),
			201,
		);
		expect(first.media).toMatchObject({ width: 7, height: 5 });
		const storedBefore = await env.MEDIA.head(`${tenant.id}/media/${first.media.id}`);

		await evictDurableObject(conversationStub(env, tenant.id, group.id));
		const retry = await upload(alice, group.id, png(7, 5, 200), "image/png", key);
		expect(await json<{ media: Media }>(retry, 200)).toEqual(first);
		expect(retry.headers.get("idempotent-replayed")).toBe("true");
		expect(await storedKeys(tenant.id)).toEqual([`${tenant.id}/media/${first.media.id}`]);
		const storedAfter = await env.MEDIA.head(`${tenant.id}/media/${first.media.id}`);
		expect(storedAfter?.uploaded.getTime()).toBe(storedBefore?.uploaded.getTime());

		// The same key is another upload in another conversation, or for another user.
		const other = await alice.createGroup([]);
		const elsewhere = await json<{ media: Media }>(
			await upload(alice, other.id, text(3), "text/plain", key),
			201,
		);
		expect(elsewhere.media.id).not.toBe(first.media.id);
		const bob = await User.create(tenant, "bob");
		await json(
			await alice.call(`/v1/conversations/${group.id}/members`, { body: { userIds: ["bob"] } }),
			200,
		);
		const bobs = await json<{ media: Media }>(await upload(bob, group.id, text(3), "text/plain", key), 201);
		expect(bobs.media.id).not.toBe(first.media.id);
	});

	it("is stored by the retry when the first attempt failed", async () => {
		const tenant = await createTenant();
		const alice = await User.create(tenant, "alice");
		const group = await alice.createGroup([]);
		const headers = { "idempotency-key": "upload-2" };
		const failed = await upload(alice, group.id, stream([text(10)]), "text/plain", {
			...headers,
			[TEST_FAULT_HEADER]: "r2-write",
		});
		await expectError(failed, 503, "unavailable");
		expect(await storedKeys(tenant.id)).toEqual([]);
		const stored = await json<{ media: Media }>(
			await upload(alice, group.id, text(10), "text/plain", headers),
			201,
		);
		expect(await json(await upload(alice, group.id, text(10), "text/plain", headers), 200)).toEqual(stored);
		expect(await storedKeys(tenant.id)).toHaveLength(1);
	});

	it("refuses a key that is not 1-255 visible ASCII characters", async () => {
		const tenant = await createTenant();
		const alice = await User.create(tenant, "alice");
		const group = await alice.createGroup([]);
		const error = await expectError(
			await upload(alice, group.id, text(3), "text/plain", { "idempotency-key": "x".repeat(256) }),
			400,
			"bad_request",
		);
		expect(error.message).toMatch(/idempotency-key/);
	});
});

describe("the platform API's creations with an Idempotency-Key", () => {
	const platform = (path: string, options: { body?: unknown; headers?: Record<string, string> } = {}) =>
		call("platform.test", path, { token: ADMIN_KEY, method: "POST", ...options });

	it("create a tenant once: a retry answers the same tenant and secrets, kept sealed", async () => {
		const name = `idempotent ${crypto.randomUUID()}`;
		const headers = { "idempotency-key": crypto.randomUUID() };
		const first = await json<CreatedTenant>(
			await platform("/platform/v1/tenants", { body: { name }, headers }),
			201,
		);
		const again = await platform("/platform/v1/tenants", { body: { name }, headers });
		expect(await json<CreatedTenant>(again, 200)).toEqual(first);
		expect(again.headers.get("idempotent-replayed")).toBe("true");
		const rows = await env.DB.prepare("SELECT COUNT(*) AS n FROM tenants WHERE name = ?").bind(name).first();
		expect(rows).toEqual({ n: 1 });
		// The kept answer is sealed: the API key is not in D1 in clear.
		const kept = await env.DB.prepare("SELECT response FROM idempotency_keys WHERE key = ?")
			.bind(headers["idempotency-key"])
			.first<{ response: string }>();
		expect(kept?.response).not.toContain(first.apiKey);

		await expectError(
			await platform("/platform/v1/tenants", { body: { name: "another body" }, headers }),
			409,
			"conflict",
		);
	});

	it("create nothing when the batch fails, and the retry then creates the tenant", async () => {
		const name = `retried ${crypto.randomUUID()}`;
		const key = { "idempotency-key": crypto.randomUUID() };
		// D1 answers the look-up of the key, then fails the batch that creates.
		const failed = await platform("/platform/v1/tenants", {
			body: { name },
			headers: { ...key, [TEST_FAULT_HEADER]: "d1:after=1" },
		});
		await expectError(failed, 503, "unavailable");
		const none = await env.DB.prepare("SELECT COUNT(*) AS n FROM tenants WHERE name = ?").bind(name).first();
		expect(none).toEqual({ n: 0 });
		await json(await platform("/platform/v1/tenants", { body: { name }, headers: key }), 201);
		await json(await platform("/platform/v1/tenants", { body: { name }, headers: key }), 200);
	});

	it("add a signing key once per key", async () => {
		const tenant = await createTenant();
		const path = `/platform/v1/tenants/${tenant.id}/signing-keys`;
		const headers = { "idempotency-key": "rotate-1" };
		const first = await json<{ signingKeyId: string }>(await platform(path, { headers }), 201);
		expect(await json(await platform(path, { headers }), 200)).toEqual(first);
		const keys = await env.DB.prepare("SELECT COUNT(*) AS n FROM signing_keys WHERE tenant_id = ?")
			.bind(tenant.id)
			.first();
		expect(keys).toEqual({ n: 2 });
		// The same key on another tenant is another rotation.
		const other = await createTenant();
		await json(await platform(`/platform/v1/tenants/${other.id}/signing-keys`, { headers }), 201);
	});
});
