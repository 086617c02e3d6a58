/**
 * The authentication state of a hibernatable socket, shared by the Conversation and Inbox objects:
 * when its token expires, which signing key (`kid`) signed it, and whether the server has ended it.
 * It lives in the socket's attachment, so it outlives hibernation.
 *
 * Ending a socket: the server does not close it first. A hibernatable socket that the server closes
 * keeps its TCP connection until the object hibernates or the socket is garbage-collected (workerd
 * releases the connection of a server-closed socket only then: bench/close-delay/README.md), so a
 * browser's `onclose` waited 10 s in an idle room and indefinitely in a busy one. Instead the server
 * sends a last frame, `session.ended {code, message, closeCode}`, stops sending anything else to the
 * socket and ignores what it sends; the client closes with `closeCode`, the runtime then releases the
 * connection at once. A client that does not close is closed by the server after
 * `TUNING.sessionEndGraceMs` (the object's alarm), as before.
 *
 * Revoked signing keys: an object cannot be told (nothing lists the objects a tenant's users have
 * sockets on), so it asks D1 for the tenant's active keys: when a socket acts and the answer it has
 * is older than `TUNING.signingKeyCheckMs` (30 s, as the Worker's cache), and on a sweep every
 * `TUNING.revocationSweepMs` (5 min) while it has sockets. A socket whose key was revoked is ended
 * with 4401 within 30 s of its next frame, and within about 5 minutes if it is silent.
 */
import { TUNING } from "../config";
import { closeSocket, ERRORS, type ErrorCode } from "../errors";
import { safeSend } from "./socket-io";

/** Headers the Worker sets on a socket's upgrade: its token's expiry (ms, skew included) and `kid`. */
export const SESSION_EXPIRES_HEADER = "x-edgechat-expires-at";
export const SESSION_KID_HEADER = "x-edgechat-kid";

/** The alarm's work kind that ends expired and revoked sockets and closes those that outstayed their end. */
export const SESSIONS_WORK = "sockets";

export interface Session {
	/** When the socket's token expires (ms since the epoch, the Worker's clock skew included); 0: never. */
	expiresAt: number;
	/** The signing key that signed the token; null for sockets opened before this was recorded. */
	kid?: string | null;
	/** Set once the server ended the socket: why, and when (its grace runs from then). */
	ended?: { code: ErrorCode; reason: string; at: number } | null;
}

const sessions = new WeakMap<WebSocket, Session>();

/** The socket's session, deserialized once per socket per wake-up. */
export function sessionOf<S extends Session>(ws: WebSocket): S | null {
	let session = sessions.get(ws);
	if (!session) {
		session = (ws.deserializeAttachment() as S | null) ?? undefined;
		if (!session) return null;
		sessions.set(ws, session);
	}
	return session as S;
}

export function saveSession(ws: WebSocket, session: Session): void {
	ws.serializeAttachment(session);
	sessions.set(ws, session);
}

/** Open, and not ended by the server: the sockets that frames go to. */
export function isLive(ws: WebSocket): boolean {
	return ws.readyState === WebSocket.OPEN && !sessionOf(ws)?.ended;
}

/**
 * Ends the socket's session: the last frame it gets says why and asks the client to close with the
 * close code the error table gives `code`. Answers when the server closes it if the client does not.
 */
export function endSession(ws: WebSocket, code: ErrorCode, reason: string, now = Date.now()): number {
	const session = sessionOf(ws) ?? { expiresAt: 0 };
	if (session.ended) return session.ended.at + TUNING.sessionEndGraceMs;
	safeSend(
		ws,
		JSON.stringify({ type: "session.ended", code, message: reason, closeCode: ERRORS[code].close }),
	);
	saveSession(ws, { ...session, ended: { code, reason, at: now } });
	return now + TUNING.sessionEndGraceMs;
}

function earliest(a: number | null, b: number): number {
	return a === null || b < a ? b : a;
}

/**
 * The sweep of the sockets' sessions, from the object's alarm: closes the ended sockets whose grace
 * is over (the fallback), ends the expired ones and, when `activeKids` is known, the ones signed by a
 * revoked key. Answers when the sweep is next due, or null when no socket needs one.
 */
export function sweepSessions(
	sockets: readonly WebSocket[],
	activeKids: ReadonlySet<string> | null,
	now = Date.now(),
): number | null {
	let next: number | null = null;
	for (const ws of sockets) {
		const session = sessionOf(ws);
		if (!session) continue;
		if (session.ended) {
			const closeAt = session.ended.at + TUNING.sessionEndGraceMs;
			if (closeAt <= now) closeSocket(ws, session.ended.code, session.ended.reason);
			else next = earliest(next, closeAt);
			continue;
		}
		if (ws.readyState !== WebSocket.OPEN) continue;
		if (session.expiresAt > 0 && session.expiresAt <= now) {
			next = earliest(next, endSession(ws, "unauthorized", "token expired", now));
		} else if (activeKids && session.kid && !activeKids.has(session.kid)) {
			next = earliest(next, endSession(ws, "unauthorized", "signing key revoked", now));
		} else {
			if (session.expiresAt > 0) next = earliest(next, session.expiresAt);
			if (session.kid) next = earliest(next, now + TUNING.revocationSweepMs);
		}
	}
	return next;
}

/** The session of a socket being accepted, from the headers the Worker set on its upgrade. */
export function sessionFromUpgrade(request: Request): Session {
	return {
		expiresAt: Number(request.headers.get(SESSION_EXPIRES_HEADER) ?? 0) || 0,
		kid: request.headers.get(SESSION_KID_HEADER),
	};
}

/** When the alarm must first look at a socket just accepted with `session`; null if never. */
export function firstSweep(session: Session, now = Date.now()): number | null {
	const sweepAt = session.kid ? now + TUNING.revocationSweepMs : Number.POSITIVE_INFINITY;
	const dueAt = Math.min(session.expiresAt > 0 ? session.expiresAt : Number.POSITIVE_INFINITY, sweepAt);
	return Number.isFinite(dueAt) ? dueAt : null;
}

/**
 * The tenant's active signing keys as D1 last said, per object: asked again when older than
 * `TUNING.signingKeyCheckMs`. D1 unreachable: the last answer stands (null if there was none), so
 * sockets stay open rather than all being ended by an outage.
 */
export class SigningKeyCheck {
	#kids: ReadonlySet<string> | null = null;
	#checkedAt = 0;
	#pending: Promise<ReadonlySet<string> | null> | null = null;

	constructor(private readonly load: () => Promise<string[]>) {}

	get stale(): boolean {
		return Date.now() - this.#checkedAt >= TUNING.signingKeyCheckMs;
	}

	/** The active kids, asking D1 when the answer is stale; one question in flight at a time. */
	activeKids(): Promise<ReadonlySet<string> | null> {
		if (!this.stale) return Promise.resolve(this.#kids);
		this.#pending ??= this.load()
			.then((kids) => {
				this.#kids = new Set(kids);
				this.#checkedAt = Date.now();
				return this.#kids;
			})
			.catch((error: unknown) => {
				console.warn("signing keys unavailable; sockets stay open", error);
				return this.#kids;
			})
			.finally(() => {
				this.#pending = null;
			});
		return this.#pending;
	}
}
