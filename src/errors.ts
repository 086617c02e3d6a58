/**
 * The one error type of edgechat. Its code names a row of the table in src/protocol.ts (`ERRORS`),
 * which gives the HTTP status and the WebSocket close code. One builder, `errorPayload`, makes what
 * every transport carries: the HTTP error body (`app.onError` is the only place an error becomes a
 * response), the refusal an object returns over RPC, the refusal of a WebSocket upgrade, and the
 * `error` frame of a socket. Sockets are closed through the table too (`closeSocket`), never with a
 * literal code.
 */
import {
	ERRORS,
	type ErrorBody,
	type ErrorCode,
	type ErrorFrame,
	type ErrorPayload,
	isErrorCode,
} from "./protocol";

export { ERRORS, type ErrorCode, isErrorCode };

export class AppError extends Error {
	override readonly name = "AppError";
	constructor(
		readonly code: ErrorCode,
		message: string,
		/** Seconds a client should wait before retrying (`rate_limited`, `unavailable`). */
		readonly retryAfter?: number,
	) {
		super(message);
	}

	get status(): number {
		return ERRORS[this.code].status;
	}

	get closeCode(): number {
		return ERRORS[this.code].close;
	}
}

/** What every transport carries for a refusal. */
export function errorPayload(error: AppError): ErrorPayload {
	return {
		code: error.code,
		message: error.message,
		...(error.retryAfter === undefined ? {} : { retryAfter: error.retryAfter }),
	};
}

/** Rebuilds the AppError from a payload that crossed a boundary; an unknown code is a bug, told as internal. */
export function fromPayload(payload: { code?: unknown; message?: unknown; retryAfter?: unknown }): AppError {
	const code = isErrorCode(payload.code) ? payload.code : "internal";
	const message = typeof payload.message === "string" ? payload.message : "Internal error";
	const retryAfter = typeof payload.retryAfter === "number" ? payload.retryAfter : undefined;
	return new AppError(code, message, retryAfter);
}

/** Seconds to wait before retrying after a dependency failed; longer when it said it is overloaded. */
export const UNAVAILABLE_RETRY_SECONDS = { transient: 1, overloaded: 5 } as const;

/**
 * How the platform says that something we depend on failed for a while rather than that our code is
 * wrong: the properties the runtime sets on errors of Durable Object calls
 * (https://developers.cloudflare.com/durable-objects/best-practices/error-handling/: `.retryable`,
 * `.overloaded`, and `.durableObjectReset` when the object was reset mid-call, e.g. its storage
 * failed), and the messages of D1's transient errors
 * (https://developers.cloudflare.com/d1/observability/debug-d1/#error-list) and R2's server errors
 * (https://developers.cloudflare.com/r2/api/error-codes/: 10001 internal error, 10043 unavailable,
 * 10058 too many requests), which reach us as plain Errors, also when an object rethrows them.
 */
const TRANSIENT_MESSAGES: readonly RegExp[] = [
	/Network connection lost/i,
	/reset because its code was updated/i,
	/caused object to be reset/i,
	/storage operation exceeded timeout/i,
	/transient issue on remote node/i,
	/\((10001|10043|10058)\)\s*$/,
];
const OVERLOADED_MESSAGES: readonly RegExp[] = [/\bis overloaded\b/i, /Too many requests queued/i];

/** The `unavailable` error for a failure of D1, R2, a Queue or a Durable Object; null for anything else. */
export function dependencyFailure(error: unknown): AppError | null {
	// Libraries wrap what they got (drizzle's DrizzleQueryError keeps D1's error as its `cause`).
	for (let cause: unknown = error, depth = 0; cause instanceof Error && depth < 5; depth++) {
		const failure = ownDependencyFailure(cause);
		if (failure) return failure;
		cause = cause.cause;
	}
	return null;
}

function ownDependencyFailure(error: Error): AppError | null {
	const flags = error as Error & { retryable?: unknown; overloaded?: unknown; durableObjectReset?: unknown };
	const message = error.message;
	if (flags.overloaded === true || OVERLOADED_MESSAGES.some((pattern) => pattern.test(message))) {
		return new AppError(
			"unavailable",
			"A service this request needs is overloaded; retry later",
			UNAVAILABLE_RETRY_SECONDS.overloaded,
		);
	}
	if (
		flags.retryable === true ||
		flags.durableObjectReset === true ||
		TRANSIENT_MESSAGES.some((pattern) => pattern.test(message))
	) {
		return new AppError(
			"unavailable",
			"A service this request needs is unavailable; retry shortly",
			UNAVAILABLE_RETRY_SECONDS.transient,
		);
	}
	return null;
}

/**
 * Anything thrown, as the AppError a client is told. A failure of a dependency (D1, R2, a Queue, a
 * Durable Object: `dependencyFailure`) is `unavailable` with a `retryAfter`, logged as a warning
 * ("dependency unavailable <context>"). Anything else that is not an AppError is a bug: it is logged
 * as "unhandled error <context>" (the request id, for a request) and told as `internal`,
 * without its message (no stack, SQL or library detail ever leaves the Worker).
 */
export function toAppError(error: unknown, context: string): AppError {
	if (error instanceof AppError) return error;
	const unavailable = dependencyFailure(error);
	if (unavailable) {
		console.warn(`dependency unavailable ${context}`, error);
		return unavailable;
	}
	console.error(`unhandled error ${context}`, error);
	return new AppError("internal", "Internal error");
}

// ── the four transports ──────────────────────────────────────────────────────────────────────────
export function errorBody(error: AppError, requestId: string): ErrorBody {
	return { error: { code: error.code, message: error.message, requestId } };
}

/** The `error` frame for a refused frame, with the clientId of a refused `message.send` when known. */
export function errorFrame(error: unknown, clientId?: string): ErrorFrame {
	return {
		type: "error",
		...errorPayload(toAppError(error, "in a frame handler")),
		...(clientId === undefined ? {} : { clientId }),
	};
}

/** In an object: refuses a WebSocket upgrade; `forwardUpgrade` (src/upgrade.ts) rebuilds the AppError. */
export function refuseUpgrade(error: AppError): Response {
	return Response.json(errorPayload(error), { status: error.status });
}

/**
 * An AppError crossing a Durable Object boundary. Workers RPC keeps only the message of a thrown
 * error, and the runtime logs every exception thrown out of an RPC method as uncaught, so a refusal
 * travels as a returned value instead: the object's `guard` turns the AppError into this shape and
 * the Worker's `rpc` turns it back into the same AppError.
 * https://developers.cloudflare.com/durable-objects/best-practices/error-handling/
 */
export interface RpcFailure {
	edgechatError: ErrorPayload;
}

export function isRpcFailure(value: unknown): value is RpcFailure {
	return typeof value === "object" && value !== null && "edgechatError" in value;
}

export function toRpcFailure(error: AppError): RpcFailure {
	return { edgechatError: errorPayload(error) };
}

export function fromRpcFailure(failure: RpcFailure): AppError {
	return fromPayload(failure.edgechatError);
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

/**
 * The async form of `guard`, for RPC methods that await. What they await may be a dependency (R2, D1,
 * another object) that fails: that too travels as a refusal, `unavailable`, rather than as an exception.
 */
export async function guardAsync<T>(fn: () => Promise<T>): Promise<T | RpcFailure> {
	try {
		return await fn();
	} catch (error) {
		if (error instanceof AppError) return toRpcFailure(error);
		const unavailable = dependencyFailure(error);
		if (unavailable) {
			console.warn("dependency unavailable in an RPC method", error);
			return toRpcFailure(unavailable);
		}
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

/** Closes a socket with the close code the table gives `code`; a socket already closing is left alone. */
export function closeSocket(ws: WebSocket, code: ErrorCode, reason: string): void {
	try {
		ws.close(ERRORS[code].close, reason);
	} catch {
		// Already closed or closing.
	}
}
