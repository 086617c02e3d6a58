/**
 * One Durable Object per (tenant, user): the user's undelivered entries, their conversation list
 * (with unread counts), and the hibernatable sockets of their devices.
 *
 * The class holds the lifecycle and the dispatch only: its public members are exactly its RPC methods
 * and the runtime's handlers (a test lists them); the commands live in mailbox.ts.
 */
import { DurableObject } from "cloudflare:workers";
import { listSigningKeys } from "../../db/tenants";
import { AppError, guard, refuseUpgrade } from "../../errors";
import {
	type ConversationListQuery,
	type InboxEntry,
	type InboxPage,
	type InboxQuery,
	PING_FRAME,
	PONG_FRAME,
} from "../../protocol";
import { testHooksEnabled } from "../../test-hooks";
import {
	endSession,
	firstSweep,
	SESSIONS_WORK,
	SigningKeyCheck,
	sessionFromUpgrade,
	sessionOf,
	sweepSessions,
} from "../sessions";
import { WorkQueue } from "../work-queue";
import type { BatchApplied, InboxBatch, InboxOwner } from "./batch";
import { handleInboxFrame } from "./frames";
import {
	ackThrough,
	applyBatch,
	expireEntries,
	greetDevice,
	type Mailbox,
	RETENTION_WORK,
	scheduleRetention,
} from "./mailbox";
import { RECEIPTS_WORK, sendReceipts } from "./receipts";
import { migrate } from "./schema";
import { DeviceSockets } from "./sockets";
import { InboxStore } from "./store";

/** Headers the Worker sets on the upgrade request it forwards; the object is reachable only from it. */
export const INBOX_TENANT_HEADER = "x-edgechat-tenant";
export const INBOX_USER_HEADER = "x-edgechat-user";

export class Inbox extends DurableObject<Env> {
	#mailbox!: Mailbox;
	/** The tenant's active signing keys, for the devices' revocation checks (sessions.ts). */
	readonly #keys = new SigningKeyCheck(async () => {
		const tenantId = this.#mailbox.store.owner?.tenantId;
		return tenantId ? (await listSigningKeys(this.env, tenantId)).map((key) => key.kid) : [];
	});

	constructor(ctx: DurableObjectState, env: Env) {
		super(ctx, env);
		void ctx.blockConcurrencyWhile(async () => {
			migrate(ctx.storage.sql);
			this.#mailbox = {
				store: new InboxStore(ctx.storage.sql),
				work: new WorkQueue(ctx.storage),
				devices: new DeviceSockets(ctx),
			};
		});
		// Answered by the runtime without waking the object, so idle devices let it hibernate.
		ctx.setWebSocketAutoResponse(new WebSocketRequestResponsePair(PING_FRAME, PONG_FRAME));
	}

	// ── RPC from Conversation objects ────────────────────────────────────────────────────────────
	/** Takes one conversation's drain for this user. Idempotent: a retry adds nothing twice. */
	apply(batch: InboxBatch): BatchApplied {
		if (testHooksEnabled(this.env) && this.#mailbox.store.takeInjectedFault()) {
			throw new Error("injected inbox fault (test hook)");
		}
		return applyBatch(this.#mailbox, batch);
	}

	// ── RPC from the Worker ──────────────────────────────────────────────────────────────────────
	listEntries(owner: InboxOwner, query: InboxQuery) {
		return guard((): InboxPage => {
			const { store } = this.#mailbox;
			store.rememberOwner(owner);
			const page = store.entriesAfter(query.after ?? 0, query.limit + 1);
			const entries: InboxEntry[] = page.slice(0, query.limit);
			return { entries, nextCursor: page.length > query.limit ? (entries.at(-1)?.cursor ?? null) : null };
		});
	}

	ack(owner: InboxOwner, cursor: number) {
		return guard(() => {
			this.#mailbox.store.rememberOwner(owner);
			ackThrough(this.#mailbox, cursor);
		});
	}

	listConversations(owner: InboxOwner, query: ConversationListQuery) {
		return guard(() => {
			this.#mailbox.store.rememberOwner(owner);
			return this.#mailbox.store.listConversations(query.cursor, query.limit);
		});
	}

	/** Test-only: the next `count` deliveries to this inbox fail, as an unreachable inbox would. */
	injectFaults(count: number): void {
		if (!testHooksEnabled(this.env)) throw new Error("test hooks are disabled");
		this.#mailbox.store.injectFaults(count);
	}

	// ── alarm ────────────────────────────────────────────────────────────────────────────────────
	override async alarm(): Promise<void> {
		const mailbox = this.#mailbox;
		await mailbox.work.run({
			[RECEIPTS_WORK]: () => sendReceipts(mailbox.store, this.env),
			[RETENTION_WORK]: async () => {
				expireEntries(mailbox);
				return false;
			},
			[SESSIONS_WORK]: async () =>
				sweepSessions(mailbox.devices.all(), await this.#keys.activeKids()) ?? false,
		});
		// The queue drops a kind once its handler answers "nothing more"; entries that expire later
		// than the ones just swept need the sweep again at their own time.
		scheduleRetention(mailbox);
	}

	// ── WebSockets ───────────────────────────────────────────────────────────────────────────────
	override async fetch(request: Request): Promise<Response> {
		const tenantId = request.headers.get(INBOX_TENANT_HEADER);
		const userId = request.headers.get(INBOX_USER_HEADER);
		if (request.headers.get("Upgrade")?.toLowerCase() !== "websocket" || !tenantId || !userId) {
			return refuseUpgrade(new AppError("upgrade_required", "Expected a WebSocket upgrade"));
		}
		this.#mailbox.store.rememberOwner({ tenantId, userId });
		const { 0: client, 1: server } = new WebSocketPair();
		const session = sessionFromUpgrade(request);
		this.#mailbox.devices.accept(server, session);
		// As on a conversation socket: the alarm ends it when its token expires, and checks its key.
		const sweepAt = firstSweep(session);
		if (sweepAt !== null) this.#mailbox.work.schedule(SESSIONS_WORK, sweepAt);
		greetDevice(this.#mailbox, server);
		return new Response(null, { status: 101, webSocket: client });
	}

	override async webSocketMessage(ws: WebSocket, data: string | ArrayBuffer): Promise<void> {
		const session = sessionOf(ws);
		if (session?.ended) return; // told its session ended; what it still sends is ignored
		if (session && session.expiresAt > 0 && session.expiresAt <= Date.now()) {
			this.#mailbox.work.schedule(SESSIONS_WORK, endSession(ws, "unauthorized", "token expired"));
			return;
		}
		if (session?.kid && this.#keys.stale) {
			// Not awaited: the frame is handled at once and in order; the sockets whose key was revoked
			// end when D1 has answered.
			void this.#keys.activeKids().then((kids) => {
				if (!kids) return;
				const next = sweepSessions(this.#mailbox.devices.all(), kids);
				if (next !== null) this.#mailbox.work.schedule(SESSIONS_WORK, next);
			});
		}
		handleInboxFrame(this.#mailbox, ws, data);
	}

	override async webSocketClose(ws: WebSocket, code: number, reason: string): Promise<void> {
		try {
			ws.close(code, reason); // completes the close handshake with the client's own code
		} catch {
			// Already closed, or a code (1005, 1006) that cannot be sent back.
		}
	}
}
