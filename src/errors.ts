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

/**
 * Anything thrown, as the AppError a client is told. An error that is not an AppError is a bug: it is
 * logged with `context` and told as `internal`, without its message (no stack, SQL or library detail
 * ever leaves the Worker).
 */
export function toAppError(error: unknown, context: string): AppError {
	if (error instanceof AppError) return error;
	console.error(context, error);
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
		...errorPayload(toAppError(error, "frame handler failed")),
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

/** Closes a socket with the close code the table gives `code`; a socket already closing is left alone. */
export function closeSocket(ws: WebSocket, code: ErrorCode, reason: string): void {
	try {
		ws.close(ERRORS[code].close, reason);
	} catch {
		// Already closed or closing.
	}
}
