/**
 * WebSocket upgrades handed from the Worker to a Durable Object. The object answers 101 with its
 * socket, or a refusal as the error payload (`refuseUpgrade` in errors.ts), which the Worker turns back into
 * the AppError that app.onError makes the error body (`forwardUpgrade`).
 */
import { AppError, fromPayload } from "./errors";

export function requireUpgrade(header: string | undefined): void {
	if (header?.toLowerCase() !== "websocket") {
		throw new AppError("upgrade_required", "This endpoint is a WebSocket; send Upgrade: websocket");
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
