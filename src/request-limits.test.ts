import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { call, createTenant, createUnlimitedTenant, expectError, json, User } from "../test/helpers";
import { app } from "./app";
import { signJwt } from "./auth/jwt";
import { LIMITS } from "./protocol";

const encoder = new TextEncoder();

/** A body that never ends, as a stream without Content-Length: only a reader that stops can answer. */
function endless(chunk = encoder.encode(`{"clientId":"a","text":"${"x".repeat(60_000)}`)) {
	let pulls = 0;
	const stream = new ReadableStream<Uint8Array>({
		pull(controller) {
			pulls++;
			controller.enqueue(chunk);
		},
	});
	return { stream, pulls: () => pulls };
}

/** A body that breaks off after its first bytes, as when a client goes away mid-upload. */
function cutShort(text: string) {
	let sent = false;
	return new ReadableStream<Uint8Array>({
		pull(controller) {
			if (sent) controller.error(new Error("Network connection lost."));
			else controller.enqueue(encoder.encode(text));
			sent = true;
		},
	});
}

describe("strings", () => {
	it("with a lone surrogate are refused in a body, and a retry stores nothing either", async () => {
		const alice = await User.create(await createUnlimitedTenant(), "alice");
		const group = await alice.createGroup(["bob"]);
		for (let i = 0; i < 2; i++) {
			const refused = await alice.call(`/v1/conversations/${group.id}/messages`, {
				rawBody: '{"clientId":"x1","text":"hello \\ud800"}',
				headers: { "content-type": "application/json" },
			});
			expect((await expectError(refused, 400, "bad_request")).message).toMatch(/^text: .*lone surrogate/);
		}
		expect((await alice.history(group.id)).messages).toEqual([]);
		for (const body of [
			'{"type":"group","title":"a\\udfff","memberIds":[]}',
			'{"type":"group","memberIds":["b\\ud800"]}',
		])
			await expectError(
				await alice.call("/v1/conversations", {
					rawBody: body,
					headers: { "content-type": "application/json" },
				}),
				400,
				"bad_request",
			);
	});

	it("with a lone surrogate are refused in a query string, percent-encoded or not", async () => {
		const alice = await User.create(await createTenant(), "alice");
		for (const q of ["%ED%A0%80", "a%ED%B0%80b", "%F0%9F", "%FF", "%", "%zz"])
			await expectError(await alice.call(`/v1/search?q=${q}`), 400, "bad_request");
		const ok = await alice.call("/v1/search?q=%C3%A9t%C3%A9");
		expect(ok.status, await ok.clone().text()).toBe(200);
	});

	it("in JWT claims are held to the same rule", async () => {
		const tenant = await createTenant();
		const now = Math.floor(Date.now() / 1000);
		const forged = await signJwt(
			{ sub: "alice", iat: now, exp: now + 60, name: "\ud800" },
			{ kid: tenant.signingKeyId, secret: tenant.signingSecret },
		);
		const refused = await call(tenant.host, "/v1/conversations", { token: forged });
		expect((await expectError(refused, 401, "unauthorized")).message).toMatch(/name/);
	});
});

describe("numbers and cursors in query strings", () => {
	const lax = [
		"",
		" ",
		" 5",
		"5%20",
		"+1",
		"-0",
		"0x10",
		"0b1",
		"0o7",
		"1e1",
		"1.0",
		"1.",
		".5",
		"05",
		"Infinity",
		"NaN",
		"%EF%BC%91",
	];

	it("are decimal integers in range, everything else 400 with the field named", async () => {
		const alice = await User.create(await createTenant(), "alice");
		const group = await alice.createGroup([]);
		const paths = [
			...["after", "before", "limit"].map(
				(name) => [`/v1/conversations/${group.id}/messages`, name] as const,
			),
			["/v1/inbox", "after"],
			["/v1/inbox", "limit"],
			["/v1/conversations", "limit"],
			["/v1/search?q=x", "limit"],
		] as const;
		for (const [path, name] of paths) {
			const url = (value: string) => `${path}${path.includes("?") ? "&" : "?"}${name}=${value}`;
			expect((await alice.call(url("5"))).status, url("5")).toBe(200);
			for (const value of [...lax, "99999999999999999999", "-1"]) {
				const error = await expectError(await alice.call(url(value)), 400, "bad_request");
				expect(error.message, url(value)).toMatch(new RegExp(`^${name}: `));
			}
		}
		for (const cursor of ["abc", "1_2_3", "01_2", "1.x.y", "1.", "x.g_1", "-1.g_1"]) {
			await expectError(await alice.call(`/v1/conversations?cursor=${cursor}`), 400, "bad_request");
			await expectError(await alice.call(`/v1/search?q=x&cursor=${cursor}`), 400, "bad_request");
		}
	});

	it("are strict on the conversation socket's ?after= too", async () => {
		const alice = await User.create(await createTenant(), "alice");
		const group = await alice.createGroup([]);
		for (const after of [...lax, "-1"]) {
			const refused = await alice.call(`/v1/conversations/${group.id}/ws?after=${after}`, {
				headers: { upgrade: "websocket", connection: "Upgrade" },
			});
			await expectError(refused, 400, "bad_request");
		}
	});
});

describe("JSON bodies", () => {
	it("over the limit are refused with 413 from their Content-Length, before a byte is read", async () => {
		const alice = await User.create(await createTenant(), "alice");
		const body = JSON.stringify({ type: "group", memberIds: [], title: " ".repeat(LIMITS.jsonBodyBytes) });
		const refused = await alice.call("/v1/conversations", {
			rawBody: body,
			headers: { "content-type": "application/json" },
		});
		expect((await expectError(refused, 413, "payload_too_large")).message).toContain(
			String(LIMITS.jsonBodyBytes),
		);
	});

	it("without a Content-Length are read no further than the limit: an endless body gets 413", async () => {
		const alice = await User.create(await createTenant(), "alice");
		const group = await alice.createGroup([]);
		const body = endless();
		const refused = await alice.call(`/v1/conversations/${group.id}/messages`, {
			rawBody: body.stream,
			headers: { "content-type": "application/json" },
		});
		await expectError(refused, 413, "payload_too_large");
		expect(body.pulls()).toBeLessThan(LIMITS.jsonBodyBytes / 60_000 + 3);
	});

	it("that break off before their end are a 400, not a 500", async () => {
		const alice = await User.create(await createTenant(), "alice");
		const group = await alice.createGroup([]);
		// In the Worker's own isolate, as the runtime hands it a request whose client went away: the
		// body's next read fails. (Through exports.default.fetch the failure would stay on the caller's side.)
		const refused = await app.fetch(
			new Request(`http://${alice.tenant.host}/v1/conversations/${group.id}/messages`, {
				method: "POST",
				headers: { authorization: `Bearer ${alice.token}`, "content-type": "application/json" },
				body: cutShort('{"clientId":"a","te'),
			}),
			env,
		);
		expect((await expectError(refused, 400, "bad_request")).message).toMatch(/ended/);
		expect((await alice.history(group.id)).messages).toEqual([]);
	});

	it("up to the limit are taken, and a body without Content-Type but with bytes is a 415", async () => {
		const alice = await User.create(await createTenant(), "alice");
		const group = await alice.createGroup([]);
		const padded = `{"clientId":"pad","text":"x"${" ".repeat(LIMITS.jsonBodyBytes - 40)}}`;
		expect(encoder.encode(padded).byteLength).toBeLessThanOrEqual(LIMITS.jsonBodyBytes);
		await json(
			await alice.call(`/v1/conversations/${group.id}/messages`, {
				rawBody: padded,
				headers: { "content-type": "application/json; charset=UTF-8" },
			}),
			201,
		);
		for (const contentType of [
			undefined,
			"text/plain",
			"application/jsonx",
			"json",
			"application/json; charset=utf-16",
			"multipart/form-data; boundary=x",
		]) {
			const headers = new Headers();
			if (contentType) headers.set("content-type", contentType);
			const refused = await alice.call(`/v1/conversations/${group.id}/messages`, {
				method: "POST",
				rawBody: encoder.encode('{"clientId":"b","text":"x"}'),
				headers: Object.fromEntries(headers),
			});
			await expectError(refused, 415, "unsupported_media_type");
		}
	});
});

describe("query strings and headers", () => {
	it("are limited in size: 414 and 431 with the error body", async () => {
		const alice = await User.create(await createTenant(), "alice");
		const query = `q=${"a".repeat(LIMITS.queryBytes - 2)}`;
		expect((await alice.call(`/v1/search?${query}`)).status).toBe(400); // q has its own limit
		await expectError(await alice.call(`/v1/search?${query}x`), 414, "query_too_long");
		await expectError(
			await alice.call("/v1/conversations", { headers: { "x-padding": "p".repeat(LIMITS.headerBytes + 1) } }),
			431,
			"headers_too_large",
		);
		await expectError(
			await call(alice.tenant.host, "/v1/conversations", { token: "e".repeat(LIMITS.headerBytes) }),
			431,
			"headers_too_large",
		);
		const many = Object.fromEntries(
			Array.from({ length: 5 }, (_, i) => [`x-padding-${i}`, "p".repeat(LIMITS.headerBytes - 100)]),
		);
		await expectError(await alice.call("/v1/conversations", { headers: many }), 431, "headers_too_large");
		// A site's cookies come with a browser's socket handshake; the API reads none, so they do not count.
		const cookie = Array.from({ length: 5 }, (_, i) => `c${i}=${"v".repeat(LIMITS.headerBytes - 100)}`);
		expect(
			(
				await alice.call("/v1/conversations", {
					headers: { cookie: cookie.join("; ").slice(0, LIMITS.headerBytes) },
				})
			).status,
		).toBe(200);
	});
});

describe("methods", () => {
	it("not allowed on a known path answer 405 with Allow; unknown paths stay 404", async () => {
		const tenant = await createTenant();
		const alice = await User.create(tenant, "alice");
		const group = await alice.createGroup([]);
		const cases: [string, string, string][] = [
			["PUT", `/v1/conversations/${group.id}`, "GET, HEAD"],
			["DELETE", `/v1/conversations/${group.id}/messages`, "GET, HEAD, POST"],
			["GET", `/v1/conversations/${group.id}/members/bob`, "DELETE"],
			["POST", "/v1/inbox", "GET, HEAD"],
			["PATCH", "/v1/conversations", "GET, HEAD, POST"],
			["POST", `/v1/conversations/${group.id}/ws`, "GET, HEAD"],
		];
		for (const [method, path, allow] of cases) {
			const refused = await alice.call(path, { method });
			expect(refused.headers.get("allow"), `${method} ${path}`).toBe(allow);
			await expectError(refused, 405, "method_not_allowed");
		}
		const platform = await call("platform.test", `/platform/v1/tenants/${tenant.id}`, {
			method: "DELETE",
			token: "test_admin_key",
		});
		expect(platform.headers.get("allow")).toBe("GET, HEAD, PATCH");
		await expectError(platform, 405, "method_not_allowed");
		await expectError(await alice.call("/v1/nope", { method: "PUT" }), 404, "not_found");
	});
});
