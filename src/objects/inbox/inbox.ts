/**
 * One Durable Object per (tenant, user): the user's undelivered entries, their conversation list
 * (with unread counts), and the hibernatable sockets of their devices.
 *
 * The class holds the lifecycle and the dispatch only: its public members are exactly its RPC methods
 * and the runtime's handlers (a test lists them); the commands live in mailbox.ts.
 */
import { DurableObject } from "cloudflare:workers";
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
		this.#mailbox.devices.accept(server);
		greetDevice(this.#mailbox, server);
		return new Response(null, { status: 101, webSocket: client });
	}

	override async webSocketMessage(ws: WebSocket, data: string | ArrayBuffer): Promise<void> {
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
