/**
 * The one error type of edgechat and the table that maps each code to its HTTP status and its
 * WebSocket close code. `app.onError` is the only place an AppError becomes a response.
 */

export const ERROR_CODES = {
	bad_request: { status: 400, close: 4400 },
	invalid_json: { status: 400, close: 4400 },
	text_required: { status: 400, close: 4400 },
	invalid_reply_to: { status: 400, close: 4400 },
	invalid_seq: { status: 400, close: 4400 },
	invalid_cursor: { status: 400, close: 4400 },
	invalid_attachment: { status: 400, close: 4400 },
	too_many_members: { status: 400, close: 4400 },
	direct_conversation: { status: 400, close: 4400 },
	unknown_frame: { status: 400, close: 4400 },
	unauthorized: { status: 401, close: 4401 },
	forbidden: { status: 403, close: 4403 },
	removed_from_conversation: { status: 403, close: 4403 },
	not_found: { status: 404, close: 4404 },
	tenant_not_found: { status: 404, close: 4404 },
	conversation_not_found: { status: 404, close: 4404 },
	method_not_allowed: { status: 405, close: 4405 },
	conflict: { status: 409, close: 4409 },
	domain_taken: { status: 409, close: 4409 },
	conversation_exists: { status: 409, close: 4409 },
	payload_too_large: { status: 413, close: 1009 },
	text_too_long: { status: 413, close: 1009 },
	frame_too_large: { status: 413, close: 1009 },
	unsupported_media_type: { status: 415, close: 4415 },
	range_not_satisfiable: { status: 416, close: 4416 },
	upgrade_required: { status: 426, close: 4426 },
	rate_limited: { status: 429, close: 4429 },
	internal: { status: 500, close: 1011 },
	unavailable: { status: 503, close: 1011 },
} as const satisfies Record<string, { status: number; close: number }>;

export type ErrorCode = keyof typeof ERROR_CODES;

export function isErrorCode(value: string): value is ErrorCode {
	return Object.hasOwn(ERROR_CODES, value);
}

export class AppError extends Error {
	override readonly name = "AppError";
	constructor(
		readonly code: ErrorCode,
		message: string,
		/** Seconds a client should wait before retrying; only for `rate_limited`. */
		readonly retryAfter?: number,
	) {
		super(message);
	}

	get status(): number {
		return ERROR_CODES[this.code].status;
	}

	get closeCode(): number {
		return ERROR_CODES[this.code].close;
	}
}

/**
 * An AppError crossing a Durable Object boundary. Workers RPC keeps only the message of a thrown
 * error, and the runtime logs every exception thrown out of an RPC method as uncaught, so a refusal
 * travels as a returned value instead: the object's `guard` turns the AppError into this shape and
 * the Worker's `rpc` turns it back into the same AppError.
 * https://developers.cloudflare.com/durable-objects/best-practices/error-handling/
 */
export interface RpcFailure {
	edgechatError: { code: ErrorCode; message: string; retryAfter?: number };
}

export function isRpcFailure(value: unknown): value is RpcFailure {
	return typeof value === "object" && value !== null && "edgechatError" in value;
}

export function toRpcFailure(error: AppError): RpcFailure {
	return {
		edgechatError: {
			code: error.code,
			message: error.message,
			...(error.retryAfter === undefined ? {} : { retryAfter: error.retryAfter }),
		},
	};
}

export function fromRpcFailure(failure: RpcFailure): AppError {
	const { code, message, retryAfter } = failure.edgechatError;
	return new AppError(isErrorCode(code) ? code : "internal", message, retryAfter);
}

/** In a Durable Object's RPC method: answers fn's value, or its AppError as an RpcFailure. */
export function guard<T>(fn: () => T): T | RpcFailure {
	try {
		return fn();
	} catch (error) {
		if (error instanceof AppError) return toRpcFailure(error);
		throw error;
	}
}

/** The async form of `guard`, for RPC methods that await. */
export async function guardAsync<T>(fn: () => Promise<T>): Promise<T | RpcFailure> {
	try {
		return await fn();
	} catch (error) {
		if (error instanceof AppError) return toRpcFailure(error);
		throw error;
	}
}

/** On the Worker side of an RPC call: answers the value, or throws the AppError the object refused with. */
export async function rpc<P extends PromiseLike<unknown>>(
	call: () => P,
): Promise<Exclude<Awaited<P>, RpcFailure>> {
	const result = await call();
	if (isRpcFailure(result)) throw fromRpcFailure(result);
	return result as Exclude<Awaited<P>, RpcFailure>;
}
