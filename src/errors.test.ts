import { describe, expect, it } from "vitest";
import {
	AppError,
	closeSocket,
	ERRORS,
	type ErrorCode,
	errorBody,
	errorFrame,
	errorPayload,
	fromPayload,
	fromRpcFailure,
	guard,
	guardAsync,
	isRpcFailure,
	refuseUpgrade,
	rpc,
	toAppError,
	toRpcFailure,
} from "./errors";
import { ErrorBody, InboxServerFrame, ServerFrame } from "./protocol";

describe("the error-code table", () => {
	it("maps every code to a 4xx/5xx status and a close code the WebSocket spec allows", () => {
		for (const [code, { status, close }] of Object.entries(ERRORS)) {
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
			domain_taken: 409,
			payload_too_large: 413,
			unsupported_media_type: 415,
			rate_limited: 429,
			internal: 500,
		};
		for (const [code, status] of Object.entries(expected))
			expect(ERRORS[code as ErrorCode].status).toBe(status);
		expect(ERRORS.unauthorized.close).toBe(4401);
		expect(ERRORS.removed_from_conversation.close).toBe(4403);
		expect(ERRORS.rate_limited.close).toBe(4429);
		expect(ERRORS.frame_too_large.close).toBe(1009);
		expect(ERRORS.internal.close).toBe(1011);
	});

	it("carries an AppError across an RPC boundary as a value and rebuilds it on the other side", async () => {
		const refused = guard(() => {
			throw new AppError("rate_limited", "Too many: slow down", 3);
		});
		expect(isRpcFailure(refused)).toBe(true);
		// What crosses RPC is structured-cloned: only plain data survives.
		const wire = structuredClone(refused);
		const rebuilt = await rpc(async () => wire).catch((error: unknown) => error);
		expect(rebuilt).toBeInstanceOf(AppError);
		expect(rebuilt).toMatchObject({
			code: "rate_limited",
			message: "Too many: slow down",
			retryAfter: 3,
			status: 429,
		});
		expect(await rpc(async () => guard(() => 42))).toBe(42);
		expect(await rpc(async () => guardAsync(async () => "ok"))).toBe("ok");
	});

	it("lets errors that are not AppErrors propagate", () => {
		expect(() =>
			guard(() => {
				throw new TypeError("boom");
			}),
		).toThrow(TypeError);
		expect(fromRpcFailure({ edgechatError: { code: "nonsense" as never, message: "x" } }).code).toBe(
			"internal",
		);
	});
});

describe("the one error payload", () => {
	const refusal = new AppError("rate_limited", "Too many messages; slow down", 2);
	const payload = { code: "rate_limited", message: "Too many messages; slow down", retryAfter: 2 };

	it("is what the HTTP body, the error frame, the upgrade refusal and the RPC refusal carry", async () => {
		expect(errorPayload(refusal)).toEqual(payload);
		expect(ErrorBody.parse(errorBody(refusal, "req_1"))).toEqual({
			error: { code: "rate_limited", message: payload.message, requestId: "req_1" },
		});
		const frame = errorFrame(refusal, "client-1");
		expect(ServerFrame.parse(frame)).toEqual({ type: "error", ...payload, clientId: "client-1" });
		expect(InboxServerFrame.parse(errorFrame(refusal))).toEqual({ type: "error", ...payload });
		const upgrade = refuseUpgrade(refusal);
		expect(upgrade.status).toBe(429);
		expect(await upgrade.json()).toEqual(payload);
		expect(structuredClone(toRpcFailure(refusal))).toEqual({ edgechatError: payload });
	});

	it("is rebuilt into the same AppError on the other side of a boundary", () => {
		expect(fromPayload(payload)).toMatchObject({
			code: "rate_limited",
			message: payload.message,
			retryAfter: 2,
		});
		expect(fromPayload({ code: "no_such_code", message: "x" })).toMatchObject({ code: "internal" });
		expect(fromPayload({})).toMatchObject({ code: "internal", message: "Internal error" });
	});

	it("tells a bug as internal, without its message", () => {
		expect(errorFrame(new TypeError("secret SQL detail"))).toEqual({
			type: "error",
			code: "internal",
			message: "Internal error",
		});
		expect(toAppError(new Error("secret"), "test")).toMatchObject({
			code: "internal",
			message: "Internal error",
		});
	});

	it("closes sockets with the table's close code", () => {
		const closed: [number, string][] = [];
		const ws = {
			close: (code: number, reason: string) => closed.push([code, reason]),
		} as unknown as WebSocket;
		closeSocket(ws, "removed_from_conversation", "removed");
		closeSocket(ws, "unauthorized", "token expired");
		expect(closed).toEqual([
			[ERRORS.removed_from_conversation.close, "removed"],
			[ERRORS.unauthorized.close, "token expired"],
		]);
	});
});
