/**
 * One Durable Object per (tenant, user): the user's undelivered entries, their conversation list
 * (with unread counts), and the hibernatable sockets of their devices.
 */

import { DurableObject } from "cloudflare:workers";
import { TUNING } from "../../config";
import { AppError, guard, refuseUpgrade } from "../../errors";
import {
	type ConversationListQuery,
	INBOX_LIMITS,
	type InboxEntry,
	type InboxQuery,
	PING_FRAME,
	PONG_FRAME,
	PROTOCOL_VERSION,
} from "../../protocol";
import { testHooksEnabled } from "../../test-hooks";

import { type WorkHandler, WorkQueue } from "../work-queue";
import type { InboxBatch, InboxOwner } from "./batch";
import { handleInboxFrame } from "./frames";
import { sendReceipts } from "./receipts";
import { migrate } from "./schema";
import { broadcast, DEVICE_TAG, sendFrame } from "./sockets";
import { type ConversationPage, InboxStore } from "./store";

/** Headers the Worker sets on the upgrade request it forwards; the object is reachable only from it. */
export const INBOX_TENANT_HEADER = "x-edgechat-tenant";
export const INBOX_USER_HEADER = "x-edgechat-user";

export class Inbox extends DurableObject<Env> {
	store!: InboxStore;
	work!: WorkQueue;

	constructor(ctx: DurableObjectState, env: Env) {
		super(ctx, env);
		void ctx.blockConcurrencyWhile(async () => {
			migrate(ctx.storage.sql);
			this.store = new InboxStore(ctx.storage.sql);
			this.work = new WorkQueue(ctx.storage);
		});
		// Answered by the runtime without waking the object, so idle devices let it hibernate.
		ctx.setWebSocketAutoResponse(new WebSocketRequestResponsePair(PING_FRAME, PONG_FRAME));
	}

	// ── RPC from Conversation objects ────────────────────────────────────────────────────────────
	/** Takes one conversation's drain for this user. Idempotent: a retry adds nothing twice. */
	apply(batch: InboxBatch): void {
		if (testHooksEnabled(this.env) && this.store.takeInjectedFault()) {
			throw new Error("injected inbox fault (test hook)");
		}
		this.store.rememberOwner(batch.owner);
		const now = Date.now();
		const applied = this.store.apply(batch, now);
		for (const entry of applied.entries) broadcast(this.ctx, { type: "inbox.entry", ...entry });
		if (applied.index) {
			const { conversationId, summary } = applied.index;
			broadcast(
				this.ctx,
				summary
					? { type: "conversation.updated", conversation: summary }
					: { type: "conversation.removed", conversationId },
			);
		}
		if (applied.entries.length > 0) this.scheduleRetention();
	}

	// ── RPC from the Worker ──────────────────────────────────────────────────────────────────────
	listEntries(owner: InboxOwner, query: InboxQuery) {
		return guard(() => {
			this.store.rememberOwner(owner);
			const page = this.store.entriesAfter(query.after ?? 0, query.limit + 1);
			const entries: InboxEntry[] = page.slice(0, query.limit);
			return { entries, nextCursor: page.length > query.limit ? (entries.at(-1)?.cursor ?? null) : null };
		});
	}

	ack(owner: InboxOwner, cursor: number) {
		return guard(() => {
			this.store.rememberOwner(owner);
			this.ackThrough(cursor);
		});
	}

	listConversations(owner: InboxOwner, query: ConversationListQuery) {
		return guard(() => {
			this.store.rememberOwner(owner);
			const page: ConversationPage = this.store.listConversations(query.cursor, query.limit);
			return page;
		});
	}

	/** Test-only: the next `count` deliveries to this inbox fail, as an unreachable inbox would. */
	injectFaults(count: number): void {
		if (!testHooksEnabled(this.env)) throw new Error("test hooks are disabled");
		this.store.injectFaults(count);
	}

	// ── internal ─────────────────────────────────────────────────────────────────────────────────
	/** Drops entries through `cursor` (from any device) and sends the delivered receipts durably. */
	ackThrough(cursor: number): void {
		const last = this.store.lastCursor();
		if (cursor > last) {
			throw new AppError("invalid_cursor", `cursor ${cursor} was never handed out (the last is ${last})`);
		}
		if (this.store.ack(cursor)) this.work.schedule("receipts");
	}

	/** Arms the retention sweep for when the oldest unacked entry expires. */
	scheduleRetention(): void {
		const at = this.store.nextExpiry();
		if (at !== null) this.work.schedule("retention", at);
	}

	override async alarm(): Promise<void> {
		await this.work.run(this.workHandlers());
		// The queue drops a kind once its handler answers "nothing more"; entries that expire later
		// than the ones just swept need the sweep again at their own time.
		this.scheduleRetention();
	}

	private workHandlers(): Record<string, WorkHandler> {
		return {
			receipts: () => sendReceipts(this.store, this.env),
			retention: async () => {
				this.store.expireEntries(Date.now() - TUNING.inboxRetentionMs);
				return false;
			},
		};
	}

	// ── WebSockets ───────────────────────────────────────────────────────────────────────────────
	override async fetch(request: Request): Promise<Response> {
		const tenantId = request.headers.get(INBOX_TENANT_HEADER);
		const userId = request.headers.get(INBOX_USER_HEADER);
		if (request.headers.get("Upgrade")?.toLowerCase() !== "websocket" || !tenantId || !userId) {
			return refuseUpgrade(new AppError("upgrade_required", "Expected a WebSocket upgrade"));
		}
		this.store.rememberOwner({ tenantId, userId });
		const { 0: client, 1: server } = new WebSocketPair();
		this.ctx.acceptWebSocket(server, [DEVICE_TAG]);
		sendFrame(server, { type: "ready", protocol: PROTOCOL_VERSION, lastCursor: this.store.lastCursor() });
		// Everything unacked, in cursor order; a backlog beyond one push is paged over HTTP.
		const backlog = this.store.entriesAfter(0, INBOX_LIMITS.replayEntries + 1);
		const pushed = backlog.slice(0, INBOX_LIMITS.replayEntries);
		for (const entry of pushed) sendFrame(server, { type: "inbox.entry", ...entry });
		const last = pushed.at(-1);
		if (backlog.length > pushed.length && last)
			sendFrame(server, { type: "inbox.truncated", cursor: last.cursor });
		return new Response(null, { status: 101, webSocket: client });
	}

	override async webSocketMessage(ws: WebSocket, data: string | ArrayBuffer): Promise<void> {
		handleInboxFrame(this, ws, data);
	}

	override async webSocketClose(ws: WebSocket, code: number, reason: string): Promise<void> {
		try {
			ws.close(code, reason);
		} catch {
			// Already closed, or a code (1005, 1006) that cannot be sent back.
		}
	}
}
