import { describe, expect, it } from "vitest";
import { call, createTenant, expectError, User } from "../test/helpers";

describe("request validation", () => {
	it("answers bad_request naming the field a body gets wrong", async () => {
		const alice = await User.create(await createTenant(), "alice");
		const refused = await alice.call("/v1/conversations", { body: { type: "group", memberIds: "bob" } });
		const error = await expectError(refused, 400, "bad_request");
		expect(error.message).toMatch(/^memberIds: /);
	});

	it("answers unsupported_media_type naming the Content-Type of a JSON route's body of another type", async () => {
		const alice = await User.create(await createTenant(), "alice");
		const refused = await alice.call("/v1/conversations", {
			rawBody: "type=group",
			headers: { "content-type": "application/x-www-form-urlencoded" },
		});
		const error = await expectError(refused, 415, "unsupported_media_type");
		expect(error.message).toContain("application/x-www-form-urlencoded");
	});

	it("checks the credential before the body", async () => {
		const tenant = await createTenant();
		const refused = await call(tenant.host, "/v1/conversations", {
			rawBody: "not json",
			headers: { "content-type": "text/plain" },
		});
		await expectError(refused, 401, "unauthorized");
	});
});
