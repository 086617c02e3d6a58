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
 * Workers RPC keeps an error's message but drops its custom properties, so an AppError crossing a
 * Durable Object boundary travels as a message of the form `edgechat:<code>:<retryAfter>:<message>`.
 * https://developers.cloudflare.com/durable-objects/best-practices/error-handling/
 */
const RPC_PREFIX = "edgechat:";

export function toRpcError(error: unknown): Error {
	if (error instanceof AppError) {
		return new Error(`${RPC_PREFIX}${error.code}:${error.retryAfter ?? ""}:${error.message}`);
	}
	return error instanceof Error ? error : new Error(String(error));
}

export function fromRpcError(error: unknown): unknown {
	if (!(error instanceof Error) || !error.message.startsWith(RPC_PREFIX)) return error;
	const rest = error.message.slice(RPC_PREFIX.length);
	const [code = "", retryAfter = "", ...message] = rest.split(":");
	if (!isErrorCode(code)) return error;
	return new AppError(code, message.join(":"), retryAfter === "" ? undefined : Number(retryAfter));
}

/** Runs an RPC call to a Durable Object and turns an AppError that crossed the boundary back into one. */
export async function rpc<T>(call: () => Promise<T>): Promise<T> {
	try {
		return await call();
	} catch (error) {
		throw fromRpcError(error);
	}
}
