/**
 * One Durable Object per (tenant, conversation): the single writer of its members and messages, and
 * the home of the hibernatable sockets of members who have the conversation open.
 */

import { DurableObject } from "cloudflare:workers";
import { TUNING } from "../../config";
import { AppError, guard, guardAsync, refuseUpgrade } from "../../errors";
import { mediaKey } from "../../media/keys";
import {
	DEFAULT_TENANT_SETTINGS,
	type HistoryQuery,
	LIMITS,
	type Message,
	PING_FRAME,
	PONG_FRAME,
	PROTOCOL_VERSION,
	type SendMessageBody,
	type TenantSettings,
} from "../../protocol";

import { inboxStub } from "../names";
import { type WorkHandler, WorkQueue } from "../work-queue";
import { findMedia, forgetMedia, type MediaRecord, markUnattached, registerMedia } from "./attachments";
import { Broadcaster } from "./broadcaster";
import {
	drainInboxes,
	INBOX_WORK,
	markDelivered,
	queueDelivery,
	queueIndexUpdate,
	queueRemoval,
	roleSnapshot,
} from "./deliver";
import { announceArrival, handleFrame, replay } from "./frames";
import { addMembers, type CreateInput, checkCreate, createConversation, removeMember } from "./members";
import { MIRROR_COALESCE_MS, MIRROR_WORK, Mirror, type MirrorFault } from "./mirror";
import { InboxOutbox } from "./outbox";
import { RateLimiter } from "./rate-limiter";
import { markRead } from "./read";
import { migrate } from "./schema";
import { sendMessage } from "./send";
import {
	attach,
	attachmentOf,
	closeExpiredSockets,
	onlineUserIds,
	openSocketsOf,
	sendFrame,
	userTag,
} from "./sockets";
import { ConversationStore } from "./store";

/** Headers the Worker sets on the upgrade request it forwards; the object is reachable only from it. */
export const SOCKET_USER_HEADER = "x-edgechat-user";
export const SOCKET_SETTINGS_HEADER = "x-edgechat-settings";
/** When the socket's token expires, in ms since the epoch (the Worker adds the clock skew it allows). */
export const SOCKET_EXPIRES_HEADER = "x-edgechat-expires-at";
const SOCKETS_WORK = "sockets";

export class Conversation extends DurableObject<Env> {
	store!: ConversationStore;
	work!: WorkQueue;
	outbox!: InboxOutbox;
	mirror!: Mirror;
	readonly limiter = new RateLimiter();
	readonly out: Broadcaster;
	settings: TenantSettings = DEFAULT_TENANT_SETTINGS;
	#settingsJson = "";

	constructor(ctx: DurableObjectState, env: Env) {
		super(ctx, env);
		this.out = new Broadcaster(ctx);
		void ctx.blockConcurrencyWhile(async () => {
			// Storage is created by `create` only: a request for an id that was never created (a typo,
			// a probe) must not leave an object with tables behind, which would be kept and billed.
			if (hasSchema(ctx.storage.sql)) this.open();
			else this.store = new ConversationStore(ctx.storage.sql, false);
		});
		// Answered by the runtime without waking the object, so an idle room can hibernate.
		ctx.setWebSocketAutoResponse(new WebSocketRequestResponsePair(PING_FRAME, PONG_FRAME));
	}

	/** Migrates the schema and loads the conversation; synchronous, so `create` can call it. */
	private open(): void {
		const { sql } = this.ctx.storage;
		migrate(sql);
		this.store = new ConversationStore(sql);
		this.work = new WorkQueue(this.ctx.storage);
		this.outbox = new InboxOutbox(sql);
		this.mirror = new Mirror(sql, this.env, this.store);
		const saved = sql.exec<{ value: string }>("SELECT value FROM meta WHERE key = 'settings'").toArray()[0];
		if (saved) this.useSettings(JSON.parse(saved.value) as TenantSettings, false);
	}

	/** Stubs of the members' inboxes, made once per member and reused by every drain. */
	readonly #inboxes = new Map<string, ReturnType<typeof inboxStub>>();

	inboxOf(userId: string): ReturnType<typeof inboxStub> {
		let stub = this.#inboxes.get(userId);
		if (!stub) {
			const tenantId = this.store.meta?.tenantId;
			if (!tenantId) throw new Error("inboxOf needs an existing conversation");
			// Members come and go; the map is bounded by dropping it whole when it outgrows a full room.
			if (this.#inboxes.size > 2 * LIMITS.groupMembers) this.#inboxes.clear();
			stub = inboxStub(this.env, tenantId, userId);
			this.#inboxes.set(userId, stub);
		}
		return stub;
	}

	/** The object's state, for the frame handlers that live in their own modules. */
	get state(): DurableObjectState {
		return this.ctx;
	}

	/**
	 * Every call from the Worker carries the tenant's current settings; the object keeps the latest it
	 * has seen, in storage too, so that frames on sockets that outlived a hibernation are held to the
	 * tenant's limits rather than to the defaults.
	 */
	private useSettings(settings: TenantSettings, persist = true): void {
		const json = JSON.stringify(settings);
		if (json === this.#settingsJson) return;
		// Only a conversation that exists keeps them: a probe of an unknown id must not create storage.
		if (persist && this.store.meta) {
			this.ctx.storage.sql.exec(
				"INSERT INTO meta (key, value) VALUES ('settings', ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
				json,
			);
		}
		this.#settingsJson = json;
		this.settings = settings;
	}

	// ── RPC from the Worker ──────────────────────────────────────────────────────────────────────
	create(input: CreateInput) {
		return guard(() => {
			if (!this.store.meta && !hasSchema(this.ctx.storage.sql)) {
				checkCreate(input); // a refused create leaves no storage behind either
				this.open();
			}
			const created = createConversation(this.store, input, Date.now());
			if (created) queueIndexUpdate(this, this.store.members.keys());
			if (created) this.membersChanged();
			return { created, conversation: this.store.view() };
		});
	}

	getConversation(userId: string) {
		return guard(() => {
			this.requireMember(userId);
			return this.store.view();
		});
	}

	addMembers(actorId: string, userIds: string[]) {
		return guard(() => {
			const added = addMembers(this.store, actorId, userIds, Date.now());
			queueIndexUpdate(this, added);
			if (added.length > 0) {
				this.membersChanged();
				this.out.broadcast({ type: "member.added", userIds: added });
			}
			return this.store.view();
		});
	}

	removeMember(actorId: string, userId: string) {
		return guard(() => {
			const rolesBefore = roleSnapshot(this.store);
			removeMember(this.store, actorId, userId);
			queueRemoval(this, userId, rolesBefore);
			this.membersChanged();
			for (const ws of this.ctx.getWebSockets(userTag(userId))) {
				ws.close(4403, "removed from the conversation");
			}
			this.out.broadcast({ type: "member.removed", userId });
		});
	}

	sendMessage(userId: string, body: SendMessageBody, settings: TenantSettings) {
		return guard(() => {
			this.useSettings(settings);
			const result = sendMessage(this.store, this.limiter, this.settings, userId, body);
			if (!result.duplicate) this.onMessageCreated(result.message);
			return result;
		});
	}

	listMessages(userId: string, query: HistoryQuery) {
		return guard(() => {
			this.requireMember(userId);
			const page =
				query.after !== undefined
					? this.store.messagesAfter(query.after, query.limit + 1)
					: this.store.messagesBefore(query.before ?? Number.MAX_SAFE_INTEGER, query.limit + 1);
			return { messages: page.slice(0, query.limit), hasMore: page.length > query.limit };
		});
	}

	markRead(userId: string, seq: number) {
		return guard(() => markRead(this, userId, seq));
	}

	// ── media and the D1 mirror (RPC from the Worker) ─────────────────────────────────────────────
	/** The upload route registers media once its bytes are in R2; the send path then checks against it. */
	registerMedia(userId: string, media: MediaRecord) {
		return guard(() => {
			this.requireMember(userId);
			registerMedia(this.ctx.storage.sql, media);
		});
	}

	/** Whether `userId` may download `mediaId`: it was uploaded here and they are a member. */
	authorizeMedia(userId: string, mediaId: string) {
		return guard(() => {
			const media = this.store.meta ? findMedia(this.ctx.storage.sql, mediaId) : null;
			if (!media || media.deletingAt !== null) throw new AppError("not_found", "No such media");
			if (!this.store.members.has(userId)) {
				throw new AppError("forbidden", "Only members of the conversation can download its media");
			}
			return media;
		});
	}

	/**
	 * Deletes media uploaded before `olderThanMs` ago that no message references: bytes from R2, then
	 * the rows. Idempotent; a failed R2 delete leaves the rows marked, and the next call retries them.
	 */
	collectUnattachedMedia(olderThanMs: number) {
		return guardAsync(async () => {
			const meta = this.store.meta;
			if (!meta) throw new AppError("conversation_not_found", "No such conversation");
			const now = Date.now();
			const ids = markUnattached(this.ctx.storage.sql, now - olderThanMs, TUNING.mediaCollectBatch, now);
			if (ids.length > 0) await this.env.MEDIA.delete(ids.map((id) => mediaKey(meta.tenantId, id)));
			forgetMedia(this.ctx.storage.sql, ids);
			return { deleted: ids, more: ids.length === TUNING.mediaCollectBatch };
		});
	}

	mirrorStatus() {
		return guard(() => {
			if (!this.store.meta) throw new AppError("conversation_not_found", "No such conversation");
			return this.mirror.status(this.work);
		});
	}

	/** Test-only (refused unless the test hooks are enabled): make the mirror's D1 writes fail. */
	setMirrorFault(fault: MirrorFault): void {
		if (!this.store.meta) throw new Error("no such conversation");
		this.mirror.setFault(fault);
	}

	/** Called in the synchronous block that changed the members; the mirror copies them to D1. */
	private membersChanged(): void {
		this.mirror.membersChanged();
		this.work.schedule(MIRROR_WORK);
	}

	/** A device of the member acked inbox entries through `seq` (RPC from the member's Inbox). */
	markDelivered(userId: string, seq: number) {
		return guard(() => markDelivered(this, userId, seq));
	}

	// ── internal ─────────────────────────────────────────────────────────────────────────────────
	private requireMember(userId: string): void {
		if (!this.store.meta || !this.store.members.has(userId)) {
			throw new AppError("conversation_not_found", "No such conversation");
		}
	}

	/** Called in the same synchronous block that stored the message. */
	onMessageCreated(message: Message): void {
		this.out.messageCreated(message);
		queueDelivery(this, message);
		this.work.schedule(MIRROR_WORK, Date.now() + MIRROR_COALESCE_MS);
	}

	// ── alarm: durable background work (outbox drains), multiplexed by kind ──────────────────────
	override async alarm(): Promise<void> {
		if (!this.store.meta) return; // no conversation, no work (an alarm cannot outlive deleteAll)
		await this.work.run(this.workHandlers());
	}

	/** One handler per kind of background work; see WorkQueue for the contract. */
	private workHandlers(): Record<string, WorkHandler> {
		return {
			[MIRROR_WORK]: () => this.mirror.drain(),
			[INBOX_WORK]: () => drainInboxes(this),
			[SOCKETS_WORK]: async () => closeExpiredSockets(this.ctx) ?? false,
		};
	}

	// ── WebSockets ───────────────────────────────────────────────────────────────────────────────
	override async fetch(request: Request): Promise<Response> {
		const userId = request.headers.get(SOCKET_USER_HEADER);
		if (request.headers.get("Upgrade")?.toLowerCase() !== "websocket" || !userId) {
			return refuseUpgrade(new AppError("upgrade_required", "Expected a WebSocket upgrade"));
		}
		const settingsHeader = request.headers.get(SOCKET_SETTINGS_HEADER);
		if (settingsHeader) this.useSettings(JSON.parse(settingsHeader) as TenantSettings);
		if (!this.store.meta || !this.store.members.has(userId)) {
			return refuseUpgrade(new AppError("conversation_not_found", "No such conversation"));
		}
		const afterParam = new URL(request.url).searchParams.get("after");
		const after = afterParam === null ? null : Number(afterParam);

		// A replay reads from storage: pending broadcasts go first, so the new socket gets each message once.
		this.out.flush();
		const online = onlineUserIds(this.ctx);
		const { 0: client, 1: server } = new WebSocketPair();
		this.ctx.acceptWebSocket(server, [userTag(userId)]);
		const expiresAt = Number(request.headers.get(SOCKET_EXPIRES_HEADER) ?? 0) || 0;
		attach(server, { userId, expiresAt });
		// The alarm closes the socket when its token expires, even if it only ever reads.
		if (expiresAt > 0) this.work.schedule(SOCKETS_WORK, expiresAt);
		sendFrame(server, {
			type: "ready",
			conversationId: this.store.meta.conversationId,
			lastSeq: this.store.lastSeq,
			protocol: PROTOCOL_VERSION,
		});
		if (after !== null) replay(this, server, after);
		announceArrival(this, server, userId, online);
		return new Response(null, { status: 101, webSocket: client });
	}

	override async webSocketMessage(ws: WebSocket, data: string | ArrayBuffer): Promise<void> {
		const attachment = attachmentOf(ws);
		if (!attachment || !this.store.members.has(attachment.userId)) {
			ws.close(4403, "not a member of the conversation");
			return;
		}
		if (attachment.expiresAt > 0 && attachment.expiresAt <= Date.now()) {
			ws.close(4401, "token expired");
			return;
		}
		handleFrame(this, ws, attachment.userId, data);
	}

	override async webSocketClose(ws: WebSocket, code: number, reason: string): Promise<void> {
		this.leave(ws);
		try {
			ws.close(code, reason);
		} catch {
			// Already closed, or a code (1005, 1006) that cannot be sent back.
		}
	}

	override async webSocketError(ws: WebSocket): Promise<void> {
		this.leave(ws);
	}

	private leave(ws: WebSocket): void {
		const attachment = attachmentOf(ws);
		if (!attachment || openSocketsOf(this.ctx, attachment.userId, ws).length > 0) return;
		this.out.broadcast(
			{ type: "presence", userId: attachment.userId, online: false },
			(other) => other === ws,
		);
	}
}

function hasSchema(sql: SqlStorage): boolean {
	return (
		sql.exec("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = '_schema'").toArray().length > 0
	);
}
