import { describe, expect, it } from "vitest";
import { ADMIN_KEY, call, createTenant, expectError, json, UPGRADE_HEADERS, User } from "../../test/helpers";
import { base64UrlEncode } from "./crypto";
import { signJwt } from "./jwt";

const now = () => Math.floor(Date.now() / 1000);
const b64 = (value: unknown) => base64UrlEncode(new TextEncoder().encode(JSON.stringify(value)));

describe("tenant resolution", () => {
	it("answers 404 tenant_not_found with the error body for a host no tenant owns", async () => {
		await expectError(await call("nobody.example", "/v1/conversations"), 404, "tenant_not_found");
	});

	it("ignores the port and the case of the Host header", async () => {
		const tenant = await createTenant();
		const response = await call(tenant.host, "/v1/tokens", {
			host: `${tenant.host.toUpperCase()}:8443`,
			token: tenant.apiKey,
			body: { userId: "alice" },
		});
		expect(response.status).toBe(201);
	});

	it("refuses a domain that another tenant already owns", async () => {
		const a = await createTenant();
		const b = await createTenant();
		const response = await call("platform.test", `/platform/v1/tenants/${b.id}/domains`, {
			token: ADMIN_KEY,
			body: { hostname: a.host },
		});
		await expectError(response, 409, "domain_taken");
	});
});

describe("platform admin", () => {
	it("refuses a missing or wrong platform admin key", async () => {
		await expectError(
			await call("platform.test", "/platform/v1/tenants", { body: { name: "x" } }),
			401,
			"unauthorized",
		);
		await expectError(
			await call("platform.test", "/platform/v1/tenants", { token: "wrong", body: { name: "x" } }),
			401,
			"unauthorized",
		);
	});

	it("refuses a bad tenant body and a bad hostname", async () => {
		await expectError(
			await call("platform.test", "/platform/v1/tenants", { token: ADMIN_KEY, body: { name: "" } }),
			400,
			"bad_request",
		);
		const tenant = await createTenant();
		for (const hostname of ["https://x.example", "x.example:80", "a b", ""]) {
			await expectError(
				await call("platform.test", `/platform/v1/tenants/${tenant.id}/domains`, {
					token: ADMIN_KEY,
					body: { hostname },
				}),
				400,
				"bad_request",
			);
		}
	});

	it("answers 404 for a tenant that does not exist", async () => {
		await expectError(
			await call("platform.test", "/platform/v1/tenants/t_missing/domains", {
				token: ADMIN_KEY,
				body: { hostname: "a.example" },
			}),
			404,
			"tenant_not_found",
		);
	});
});

describe("tokens", () => {
	it("mints a token with an API key, and refuses a missing or foreign API key", async () => {
		const tenant = await createTenant();
		const other = await createTenant();
		const minted = await json<{ token: string; expiresAt: string }>(
			await call(tenant.host, "/v1/tokens", {
				token: tenant.apiKey,
				body: { userId: "alice", ttlSeconds: 120 },
			}),
			201,
		);
		expect(Date.parse(minted.expiresAt) - Date.now()).toBeGreaterThan(60_000);
		expect(Date.parse(minted.expiresAt) - Date.now()).toBeLessThanOrEqual(121_000);
		await expectError(
			await call(tenant.host, "/v1/tokens", { body: { userId: "alice" } }),
			401,
			"unauthorized",
		);
		await expectError(
			await call(tenant.host, "/v1/tokens", { token: other.apiKey, body: { userId: "alice" } }),
			401,
			"unauthorized",
		);
	});

	it("refuses bad token requests", async () => {
		const tenant = await createTenant();
		for (const body of [
			{},
			{ userId: "" },
			{ userId: "a:b" },
			{ userId: "a", ttlSeconds: 5 },
			{ userId: "a", extra: 1 },
		]) {
			await expectError(
				await call(tenant.host, "/v1/tokens", { token: tenant.apiKey, body }),
				400,
				"bad_request",
			);
		}
	});

	it("accepts a token the tenant minted itself with its signing secret", async () => {
		const tenant = await createTenant();
		const token = await signJwt(
			{ sub: "selfmade", iat: now(), exp: now() + 600 },
			{ kid: tenant.signingKeyId, secret: tenant.signingSecret },
		);
		const response = await call(tenant.host, "/v1/conversations", {
			token,
			body: { type: "direct", memberIds: ["someone"] },
		});
		expect(response.status).toBe(201);
	});
});

describe("user authentication", () => {
	async function expectUnauthorized(
		host: string,
		token: string | null,
		headers: Record<string, string> = {},
	) {
		await expectError(
			await call(host, "/v1/conversations", { token, headers, body: { type: "direct", memberIds: ["bob"] } }),
			401,
			"unauthorized",
		);
	}

	it("refuses a missing, malformed, expired or wrongly signed token", async () => {
		const tenant = await createTenant();
		const key = { kid: tenant.signingKeyId, secret: tenant.signingSecret };
		await expectUnauthorized(tenant.host, null);
		await expectUnauthorized(tenant.host, null, { authorization: "Basic abc" });
		await expectUnauthorized(tenant.host, "not-a-jwt");
		await expectUnauthorized(tenant.host, "a.b.c");
		await expectUnauthorized(
			tenant.host,
			await signJwt({ sub: "alice", iat: now() - 7200, exp: now() - 3600 }, key),
		);
		await expectUnauthorized(
			tenant.host,
			await signJwt(
				{ sub: "alice", iat: now(), exp: now() + 600 },
				{ kid: tenant.signingKeyId, secret: "wrong" },
			),
		);
		await expectUnauthorized(
			tenant.host,
			await signJwt({ sub: "alice", iat: now(), exp: now() + 600 }, { ...key, kid: "k_unknown" }),
		);
		// No exp, no sub, a sub that is not a user id, or an unsigned token.
		const unsigned = `${b64({ alg: "none", typ: "JWT" })}.${b64({ sub: "alice", exp: now() + 600 })}.`;
		await expectUnauthorized(tenant.host, unsigned);
		await expectUnauthorized(tenant.host, await signJwt({ sub: "alice", iat: now() } as never, key));
		await expectUnauthorized(tenant.host, await signJwt({ iat: now(), exp: now() + 600 } as never, key));
		await expectUnauthorized(tenant.host, await signJwt({ sub: "a:b", iat: now(), exp: now() + 600 }, key));
	});

	it("refuses a valid token of another tenant", async () => {
		const a = await createTenant();
		const b = await createTenant();
		const alice = await User.create(a, "alice");
		await expectUnauthorized(b.host, alice.token);
	});

	it("accepts ?token= only on WebSocket upgrades", async () => {
		const tenant = await createTenant();
		const alice = await User.create(tenant, "alice");
		const group = await alice.createGroup([]);
		await expectError(
			await call(tenant.host, `/v1/conversations/${group.id}/messages?token=${alice.token}`),
			401,
			"unauthorized",
		);
		const upgraded = await call(tenant.host, `/v1/conversations/${group.id}/ws?token=${alice.token}`, {
			headers: UPGRADE_HEADERS,
		});
		expect(upgraded.status).toBe(101);
		upgraded.webSocket?.accept();
		upgraded.webSocket?.close();
	});

	it("keeps old tokens valid after a key rotation until the old key is revoked", async () => {
		const tenant = await createTenant();
		const old = { kid: tenant.signingKeyId, secret: tenant.signingSecret };
		const rotated = await json<{ signingKeyId: string; signingSecret: string }>(
			await call("platform.test", `/platform/v1/tenants/${tenant.id}/signing-keys`, {
				token: ADMIN_KEY,
				method: "POST",
			}),
			201,
		);
		const oldToken = await signJwt({ sub: "alice", iat: now(), exp: now() + 600 }, old);
		const newToken = await signJwt(
			{ sub: "alice", iat: now(), exp: now() + 600 },
			{ kid: rotated.signingKeyId, secret: rotated.signingSecret },
		);
		const ok = (token: string) =>
			call(tenant.host, "/v1/conversations", { token, body: { type: "direct", memberIds: ["bob"] } });
		expect((await ok(oldToken)).status).toBeLessThan(300);
		expect((await ok(newToken)).status).toBeLessThan(300);
		// Minting now uses the newest key.
		const minted = await User.create(tenant, "carol");
		const header = JSON.parse(atob(minted.token.split(".")[0] as string)) as { kid: string };
		expect(header.kid).toBe(rotated.signingKeyId);

		const revoked = await call("platform.test", `/platform/v1/tenants/${tenant.id}/signing-keys/${old.kid}`, {
			token: ADMIN_KEY,
			method: "DELETE",
		});
		expect(revoked.status).toBe(204);
		await expectUnauthorized(tenant.host, oldToken);
		expect((await ok(newToken)).status).toBeLessThan(300);
	});
});
