/**
 * Every code of the error table, with an input that produces it: a code that nothing produces has
 * no row here, and then none in ERRORS or docs/api.md either (their own test keeps those two equal).
 * The map is typed by ErrorCode, so a new code cannot be added without its input.
 */
import { Hono } from "hono";
import { describe, expect, it } from "vitest";
import { ADMIN_KEY, call, createTenant, expectError, json, type TestTenant, User } from "../test/helpers";
import { text, uploaded } from "../test/media";
import { answerError } from "./app";
import type { AppEnv } from "./context";
import { ERRORS, type ErrorCode } from "./errors";
import { LIMITS } from "./protocol";

interface Fixture {
	tenant: TestTenant;
	alice: User;
	bob: User;
	/** A group of alice (owner) and bob (member). */
	group: string;
}

/** Answers the code an HTTP refusal carried, after checking its body and its status against the table. */
async function httpCode(response: Response): Promise<ErrorCode> {
	const body = (await response.clone().json()) as { error: { code: ErrorCode } };
	await expectError(response, ERRORS[body.error.code].status, body.error.code);
	return body.error.code;
}

/** Answers the code of the error frame the conversation socket sends back for `frame`. */
async function frameCode(f: Fixture, frame: string): Promise<ErrorCode> {
	const socket = await f.alice.connect(f.group);
	await socket.next("ready");
	socket.send(frame);
	const error = await socket.next<{ type: string; code: ErrorCode }>("error");
	socket.close();
	return error.code;
}

const send = (f: Fixture, body: unknown) => f.alice.call(`/v1/conversations/${f.group}/messages`, { body });

const PRODUCERS: Record<ErrorCode, (f: Fixture) => Promise<ErrorCode>> = {
	bad_request: async (f) =>
		httpCode(await f.alice.call("/v1/conversations", { body: { type: "group", memberIds: "bob" } })),
	invalid_json: (f) => frameCode(f, "{"),
	text_required: async (f) => httpCode(await send(f, { clientId: "c1", text: "   " })),
	invalid_reply_to: async (f) => httpCode(await send(f, { clientId: "c2", text: "x", replyTo: 99 })),
	invalid_seq: async (f) =>
		httpCode(await f.alice.call(`/v1/conversations/${f.group}/read`, { body: { seq: 99 } })),
	invalid_cursor: async (f) => httpCode(await f.alice.call("/v1/inbox/ack", { body: { cursor: 99 } })),
	invalid_attachment: async (f) =>
		httpCode(await send(f, { clientId: "c3", text: "x", attachments: ["m_nope"] })),
	too_many_members: async (f) =>
		httpCode(
			await f.alice.call("/v1/conversations", {
				body: { type: "group", memberIds: Array.from({ length: LIMITS.groupMembers }, (_, i) => `u${i}`) },
			}),
		),
	direct_conversation: async (f) => {
		const direct = await json<{ conversation: { id: string } }>(
			await f.alice.call("/v1/conversations", { body: { type: "direct", memberIds: ["bob"] } }),
			201,
		);
		return httpCode(
			await f.alice.call(`/v1/conversations/${direct.conversation.id}/members`, {
				body: { userIds: ["carol"] },
			}),
		);
	},
	unknown_frame: (f) => frameCode(f, '{"type":"nope"}'),
	unauthorized: async (f) => httpCode(await call(f.tenant.host, "/v1/conversations")),
	forbidden: async (f) =>
		httpCode(await f.bob.call(`/v1/conversations/${f.group}/members`, { body: { userIds: ["carol"] } })),
	removed_from_conversation: async (f) => {
		const socket = await f.bob.connect(f.group);
		await socket.next("ready");
		expect(
			(await f.alice.call(`/v1/conversations/${f.group}/members/bob`, { method: "DELETE" })).status,
		).toBe(204);
		const closed = await socket.closed();
		expect(closed.code).toBe(ERRORS.removed_from_conversation.close);
		return "removed_from_conversation";
	},
	not_found: async (f) => httpCode(await f.alice.call("/v1/nope")),
	tenant_not_found: async (f) =>
		httpCode(await call("nobody.chat.test", "/v1/conversations", { token: f.alice.token })),
	conversation_not_found: async (f) => httpCode(await f.alice.call("/v1/conversations/g_nope")),
	method_not_allowed: async (f) =>
		httpCode(await f.alice.call(`/v1/conversations/${f.group}`, { method: "PUT" })),
	conflict: async () => {
		// The same Idempotency-Key for another request: the first answer is kept for the key.
		const headers = { "idempotency-key": crypto.randomUUID() };
		const create = (name: string) =>
			call("platform.test", "/platform/v1/tenants", { token: ADMIN_KEY, headers, body: { name } });
		await json(await create("first"), 201);
		return httpCode(await create("another"));
	},
	domain_taken: async (f) => {
		const other = await createTenant();
		return httpCode(
			await call("platform.test", `/platform/v1/tenants/${other.id}/domains`, {
				token: ADMIN_KEY,
				body: { hostname: f.tenant.host },
			}),
		);
	},
	payload_too_large: async (f) =>
		httpCode(await send(f, { clientId: "c4", text: "x".repeat(LIMITS.jsonBodyBytes) })),
	text_too_long: async (f) =>
		httpCode(await send(f, { clientId: "c5", text: "x".repeat(LIMITS.textBytes + 1) })),
	frame_too_large: (f) => frameCode(f, `{"type":"ping","x":"${"x".repeat(LIMITS.frameBytes)}"}`),
	query_too_long: async (f) =>
		httpCode(await f.alice.call(`/v1/search?q=x&pad=${"p".repeat(LIMITS.queryBytes)}`)),
	unsupported_media_type: async (f) =>
		httpCode(
			await f.alice.call("/v1/conversations", {
				rawBody: '{"type":"group","memberIds":[]}',
				headers: { "content-type": "text/plain" },
			}),
		),
	range_not_satisfiable: async (f) => {
		const media = await uploaded(f.alice, f.group, text(10), "text/plain");
		return httpCode(await f.alice.call(`/v1/media/${media.id}`, { headers: { range: "bytes=10-" } }));
	},
	upgrade_required: async (f) => httpCode(await f.alice.call(`/v1/conversations/${f.group}/ws`)),
	rate_limited: async () => {
		const limited = await createTenant({ sendRate: { perSecond: 0.001, burst: 1 } });
		const carol = await User.create(limited, "carol");
		const group = await carol.createGroup([]);
		await carol.send(group.id, "first");
		const refused = await carol.call(`/v1/conversations/${group.id}/messages`, {
			body: { clientId: "c6", text: "x" },
		});
		expect(Number(refused.headers.get("retry-after"))).toBeGreaterThan(0);
		return httpCode(refused);
	},
	headers_too_large: async (f) =>
		httpCode(
			await f.alice.call("/v1/conversations", { headers: { "x-pad": "p".repeat(LIMITS.headerBytes + 1) } }),
		),
	// A bug, not an input: a handler that throws something other than an AppError, through the app's
	// own error handler. Its message does not leave the Worker.
	internal: async () => {
		const probe = new Hono<AppEnv>();
		probe.use(async (c, next) => {
			c.set("requestId", "req_probe");
			await next();
		});
		probe.get("/", () => {
			throw new TypeError("secret detail");
		});
		probe.onError(answerError);
		const response = await probe.request("/");
		expect(await response.clone().text()).not.toContain("secret");
		return httpCode(response);
	},
	unavailable: async () => {
		const tenant = await createTenant();
		const admin = { token: ADMIN_KEY, method: "DELETE" };
		const keys = `/platform/v1/tenants/${tenant.id}/signing-keys`;
		expect((await call("platform.test", `${keys}/${tenant.signingKeyId}`, admin)).status).toBe(204);
		return httpCode(
			await call(tenant.host, "/v1/tokens", { token: tenant.apiKey, body: { userId: "alice" } }),
		);
	},
};

describe("every error code of the table", () => {
	it("has an input that produces it", () => {
		expect(Object.keys(PRODUCERS).sort()).toEqual(Object.keys(ERRORS).sort());
	});

	for (const code of Object.keys(ERRORS) as ErrorCode[]) {
		it(`${code}: is produced by its input`, async () => {
			const tenant = await createTenant({ sendRate: { perSecond: 1000, burst: 1000 } });
			const alice = await User.create(tenant, "alice");
			const bob = await User.create(tenant, "bob");
			const group = (await alice.createGroup(["bob"])).id;
			expect(await PRODUCERS[code]({ tenant, alice, bob, group })).toBe(code);
		});
	}
});
