/**
 * A dependency that fails (D1, R2, a Durable Object) answers 503 `unavailable` with Retry-After and
 * the error body, never 500, and leaves nothing half written. The faults are the test hooks of
 * src/test-hooks.ts: the same errors the platform throws, recognised in one place (errors.ts).
 */
import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { call, createTenant, expectError, json, User } from "../test/helpers";
import { png, storedKeys, stream, text, upload } from "../test/media";
import { dependencyFailure, toAppError } from "./errors";
import { PART_BYTES } from "./media/upload";
import { conversationStub } from "./objects/names";
import {
	D1_CONNECTION_LOST,
	DO_OVERLOADED,
	DO_STORAGE_RESET,
	R2_INTERNAL_ERROR,
	TEST_FAULT_HEADER,
} from "./test-hooks";

const fault = (value: string) => ({ [TEST_FAULT_HEADER]: value });

/** The 503 of the contract: the error body, and a Retry-After the body's code goes with. */
async function expectUnavailable(response: Response): Promise<void> {
	await expectError(response, 503, "unavailable");
	expect(Number(response.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
}

function mediaRows(tenantId: string, conversationId: string): Promise<number> {
	return runInDurableObject(
		conversationStub(env, tenantId, conversationId),
		(_object, state) => state.storage.sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM media").one().n,
	);
}

describe("a dependency that fails", () => {
	it("is recognised by the shapes the platform gives its errors, and nothing else is", () => {
		const flagged = (props: Record<string, unknown>) => Object.assign(new Error("anything"), props);
		for (const error of [
			new Error(D1_CONNECTION_LOST),
			new Error("D1_ERROR: D1 DB reset because its code was updated."),
			new Error("D1 DB is overloaded. Requests queued for too long."),
			new Error("D1_ERROR: Cannot resolve D1 DB due to transient issue on remote node."),
			new Error(`put: ${R2_INTERNAL_ERROR}`),
			new Error("get: Service unavailable. (10043)"),
			new Error(DO_OVERLOADED),
			new Error(DO_STORAGE_RESET),
			flagged({ retryable: true }),
			flagged({ overloaded: true }),
			flagged({ durableObjectReset: true }),
		]) {
			expect(dependencyFailure(error)?.code, error.message).toBe("unavailable");
			expect(toAppError(error, "test").status).toBe(503);
		}
		for (const bug of [
			new Error('D1_ERROR: near "SELEC": syntax error at offset 0: SQLITE_ERROR'),
			new Error("put: Your metadata headers exceed the maximum allowed metadata size. (10012)"),
			new TypeError("Cannot read properties of undefined"),
			flagged({ remote: true }),
			"a string",
		]) {
			expect(dependencyFailure(bug)).toBeNull();
			expect(toAppError(bug, "test").code).toBe("internal");
		}
		expect(dependencyFailure(new Error(DO_OVERLOADED))?.retryAfter).toBeGreaterThan(
			dependencyFailure(new Error(D1_CONNECTION_LOST))?.retryAfter ?? 0,
		);
	});

	it("D1 down: search, a new host and the platform API answer 503, and no tenant is half created", async () => {
		const tenant = await createTenant();
		const alice = await User.create(tenant, "alice");
		await expectUnavailable(await alice.call("/v1/search?q=hello", { headers: fault("d1") }));
		// A host never resolved before: the tenant directory itself is unreachable.
		await expectUnavailable(
			await call("never-seen.chat.test", "/v1/conversations", { headers: fault("d1") }),
		);

		const name = `half ${crypto.randomUUID()}`;
		await expectUnavailable(
			await call("platform.test", "/platform/v1/tenants", {
				token: "test_admin_key",
				body: { name },
				headers: fault("d1"),
			}),
		);
		const rows = await env.DB.prepare("SELECT COUNT(*) AS n FROM tenants WHERE name = ?").bind(name).first();
		expect(rows).toEqual({ n: 0 });
	});

	it("R2 down for writes: an upload answers 503 and leaves neither bytes nor a media row", async () => {
		const tenant = await createTenant();
		const alice = await User.create(tenant, "alice");
		const group = await alice.createGroup([]);
		await expectUnavailable(await upload(alice, group.id, png(4, 4, 100), "image/png", fault("r2-write")));
		await expectUnavailable(
			await upload(alice, group.id, stream([text(10), text(10)]), "text/plain", fault("r2-write")),
		);
		// Without a Content-Length and over one part: the multipart upload cannot start.
		const big = Array.from({ length: 6 }, () => text(1024 * 1024));
		expect(big.length * 1024 * 1024).toBeGreaterThan(PART_BYTES);
		await expectUnavailable(await upload(alice, group.id, stream(big), "text/plain", fault("r2-write")));
		expect(await storedKeys(tenant.id)).toEqual([]);
		expect(await mediaRows(tenant.id, group.id)).toBe(0);
	});

	it("R2 down for reads: a download answers 503", async () => {
		const tenant = await createTenant();
		const alice = await User.create(tenant, "alice");
		const group = await alice.createGroup([]);
		const { media } = await json<{ media: { id: string } }>(
			await upload(alice, group.id, png(4, 4), "image/png"),
			201,
		);
		await expectUnavailable(await alice.call(`/v1/media/${media.id}`, { headers: fault("r2") }));
		expect((await alice.call(`/v1/media/${media.id}`)).status).toBe(200);
	});

	it("an object whose storage fails while registering an upload: 503, and the bytes are deleted again", async () => {
		const tenant = await createTenant();
		const alice = await User.create(tenant, "alice");
		const group = await alice.createGroup([]);
		await conversationStub(env, tenant.id, group.id).injectReset("registerMedia");
		await expectUnavailable(await upload(alice, group.id, png(4, 4), "image/png"));
		expect(await storedKeys(tenant.id)).toEqual([]);
		expect(await mediaRows(tenant.id, group.id)).toBe(0);
	});

	it("an object whose storage fails mid-send: 503, no message, and the retry stores it once", async () => {
		const tenant = await createTenant();
		const alice = await User.create(tenant, "alice");
		const group = await alice.createGroup([]);
		await conversationStub(env, tenant.id, group.id).injectReset("sendMessage");
		const send = () =>
			alice.call(`/v1/conversations/${group.id}/messages`, { body: { clientId: "c-1", text: "hello" } });
		await expectUnavailable(await send());
		expect((await alice.history(group.id)).messages).toEqual([]);
		const stored = await json<{ message: { seq: number } }>(await send(), 201);
		expect(stored.message.seq).toBe(1);
		expect((await alice.history(group.id)).messages.map((m) => m.seq)).toEqual([1]);
	});

	it("an overloaded object: 503 with a longer Retry-After, and nothing stored", async () => {
		const tenant = await createTenant();
		const alice = await User.create(tenant, "alice");
		const group = await alice.createGroup([]);
		const response = await alice.call(`/v1/conversations/${group.id}/messages`, {
			body: { clientId: "c-1", text: "hello" },
			headers: fault("do-overloaded"),
		});
		await expectUnavailable(response);
		expect(Number(response.headers.get("retry-after"))).toBeGreaterThan(1);
		expect((await alice.history(group.id)).messages).toEqual([]);
		await expectUnavailable(await alice.call("/v1/inbox", { headers: fault("do-overloaded") }));
	});

	it("are switches a deployment without the test hooks ignores", async () => {
		const { withTestFaults } = await import("./test-hooks");
		const production = { ...env, EDGECHAT_TEST_HOOKS: undefined } as unknown as Env;
		expect(withTestFaults(production, "d1, r2, do-overloaded")).toBe(production);
		expect(withTestFaults(env, undefined)).toBe(env);
	});
});
