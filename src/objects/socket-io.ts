/**
 * Sending on hibernatable sockets, for both objects. A socket found through the runtime may have
 * closed between the look-up and the send; that must never fail the handler (the close handler
 * cleans up after it), so every send goes through `safeSend`.
 */

export function safeSend(ws: WebSocket, data: string): void {
	try {
		ws.send(data);
	} catch {
		// Closed meanwhile: webSocketClose deals with it.
	}
}

/** Serializes the frame once and sends the same string to every socket (but those `except` names). */
export function broadcastTo(
	sockets: Iterable<WebSocket>,
	frame: unknown,
	except?: (ws: WebSocket) => boolean,
): void {
	const data = JSON.stringify(frame);
	for (const ws of sockets) {
		if (except?.(ws)) continue;
		safeSend(ws, data);
	}
}
