/**
 * WebSocket upgrades handed from the Worker to a Durable Object. The object answers 101 with its
 * socket, or a refusal as the error payload (`refuseUpgrade` in errors.ts), which the Worker turns back into
 * the AppError that app.onError makes the error body (`forwardUpgrade`).
 */
import type { Context } from "hono";
import type { AppEnv } from "./context";
import { AppError, fromPayload } from "./errors";

/** The comma-separated tokens of a header, lowercased (`Connection: keep-alive, Upgrade`). */
function tokens(header: string | null): string[] {
	return (header ?? "").split(",").map((token) => token.trim().toLowerCase());
}

/** Base64 of 16 bytes, and nothing else (RFC 6455 §4.1: "a randomly selected 16-byte value"). */
const WEBSOCKET_KEY = /^[A-Za-z0-9+/]{21}[AQgw]==$/;

/**
 * Checks the opening handshake (RFC 6455 §4.2.1) in the Worker, before a socket route does any work
 * or an object accepts the socket, so that both sockets refuse a malformed one with the error body:
 * - no `Upgrade: websocket`, or no `Connection: Upgrade` with it: no upgrade was asked, `426
 *   upgrade_required` (with `Upgrade: websocket`, RFC 9110 §15.5.22);
 * - a `Sec-WebSocket-Version` other than exactly `13`, or none: `426 upgrade_required` with
 *   `Sec-WebSocket-Version: 13`, the version the server speaks (RFC 6455 §4.4);
 * - a `Sec-WebSocket-Key` that is not the base64 of 16 bytes (missing, empty, two of them), or a
 *   request that is not HTTP/1.1 or later: `400 bad_request`.
 */
export function requireUpgrade(c: Context<AppEnv>): void {
	const headers = c.req.raw.headers;
	if (
		!tokens(headers.get("upgrade")).includes("websocket") ||
		!tokens(headers.get("connection")).includes("upgrade")
	) {
		c.header("Upgrade", "websocket");
		throw new AppError(
			"upgrade_required",
			"This endpoint is a WebSocket; send Upgrade: websocket and Connection: Upgrade",
		);
	}
	if (headers.get("sec-websocket-version")?.trim() !== "13") {
		c.header("Sec-WebSocket-Version", "13");
		throw new AppError(
			"upgrade_required",
			"This endpoint speaks WebSocket version 13 (Sec-WebSocket-Version: 13)",
		);
	}
	if (!WEBSOCKET_KEY.test(headers.get("sec-websocket-key")?.trim() ?? "")) {
		throw new AppError("bad_request", "Sec-WebSocket-Key must be the base64 of 16 bytes, given once");
	}
	const protocol = (c.req.raw.cf as { httpProtocol?: unknown } | undefined)?.httpProtocol;
	if (protocol === "HTTP/1.0" || protocol === "HTTP/0.9") {
		throw new AppError("bad_request", "A WebSocket handshake needs HTTP/1.1 or later");
	}
}

export async function forwardUpgrade(
	stub: { fetch(url: string | URL, init?: RequestInit): Promise<Response> },
	url: string | URL,
	headers: Record<string, string>,
): Promise<Response> {
	const response = await stub.fetch(url, { headers: { Upgrade: "websocket", ...headers } });
	if (response.status === 101) return response;
	const refusal: unknown = await response.json().catch(() => null);
	throw fromPayload(typeof refusal === "object" && refusal !== null ? refusal : {});
}

/** The answer of a WebSocket route that accepted the upgrade, for its declaration. */
export const UPGRADE_RESPONSE = {
	101: { description: "Switching Protocols: the socket is open. Its frames are in `GET /asyncapi.json`." },
} as const;
