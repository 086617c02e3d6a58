import { describe, expect, it } from "vitest";
import { call, createTenant, expectError, User } from "../test/helpers";

describe("browsers on a tenant's own origin", () => {
	it("get CORS answers to preflights and on every response, errors included", async () => {
		const tenant = await createTenant();
		const preflight = await call(tenant.host, "/v1/conversations", {
			method: "OPTIONS",
			headers: {
				origin: "https://app.acme.example",
				"access-control-request-method": "POST",
				"access-control-request-headers": "authorization, content-type",
			},
		});
		expect(preflight.status).toBe(204);
		expect(preflight.headers.get("access-control-allow-origin")).toBe("*");
		expect(preflight.headers.get("access-control-allow-headers")).toContain("authorization");

		const alice = await User.create(tenant, "alice");
		const ok = await alice.call("/v1/conversations", {
			headers: { origin: "https://app.acme.example" },
			body: { type: "group", memberIds: [] },
		});
		expect(ok.status).toBe(201);
		expect(ok.headers.get("access-control-allow-origin")).toBe("*");

		const refused = await call(tenant.host, "/v1/conversations/g_x", {
			headers: { origin: "https://app.acme.example" },
		});
		expect(refused.headers.get("access-control-allow-origin")).toBe("*");
		expect(refused.headers.get("access-control-expose-headers")).toContain("x-request-id");
		await expectError(refused, 401, "unauthorized");
	});
});
