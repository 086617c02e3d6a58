import { describe, expect, it } from "vitest";
import { AppError, ERROR_CODES, type ErrorCode, fromRpcError, toRpcError } from "./errors";

describe("the error-code table", () => {
	it("maps every code to a 4xx/5xx status and a close code the WebSocket spec allows", () => {
		for (const [code, { status, close }] of Object.entries(ERROR_CODES)) {
			expect(code).toMatch(/^[a-z]+(_[a-z]+)*$/);
			expect(status).toBeGreaterThanOrEqual(400);
			expect(status).toBeLessThan(600);
			// 4000-4999 are the application's; 1009 and 1011 are the protocol's "too big" and "internal".
			expect(close === 1009 || close === 1011 || (close >= 4000 && close < 5000)).toBe(true);
			if (close >= 4000) expect(close).toBe(4000 + status);
		}
	});

	it("gives the statuses the contract names", () => {
		const expected: Partial<Record<ErrorCode, number>> = {
			bad_request: 400,
			unauthorized: 401,
			forbidden: 403,
			not_found: 404,
			conflict: 409,
			payload_too_large: 413,
			unsupported_media_type: 415,
			rate_limited: 429,
			internal: 500,
		};
		for (const [code, status] of Object.entries(expected))
			expect(ERROR_CODES[code as ErrorCode].status).toBe(status);
		expect(ERROR_CODES.unauthorized.close).toBe(4401);
		expect(ERROR_CODES.removed_from_conversation.close).toBe(4403);
		expect(ERROR_CODES.rate_limited.close).toBe(4429);
		expect(ERROR_CODES.frame_too_large.close).toBe(1009);
		expect(ERROR_CODES.internal.close).toBe(1011);
	});

	it("rebuilds an AppError that crossed an RPC boundary as a plain Error, message with colons included", () => {
		const original = new AppError("rate_limited", "Too many: slow down", 3);
		const wire = new Error(toRpcError(original).message); // all that RPC keeps
		const rebuilt = fromRpcError(wire);
		expect(rebuilt).toBeInstanceOf(AppError);
		expect(rebuilt).toMatchObject({
			code: "rate_limited",
			message: "Too many: slow down",
			retryAfter: 3,
			status: 429,
		});
	});

	it("leaves errors that are not ours untouched", () => {
		const other = new Error("edgechat:not_a_code::x");
		expect(fromRpcError(other)).toBe(other);
		const plain = new TypeError("boom");
		expect(fromRpcError(plain)).toBe(plain);
		expect(toRpcError(plain)).toBe(plain);
	});
});
