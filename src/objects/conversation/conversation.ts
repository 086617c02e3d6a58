/**
 * One Durable Object per (tenant, conversation): the single writer of its members and messages, and
 * the home of the hibernatable sockets of members who have the conversation open.
 *
 * The class holds the lifecycle and the dispatch only. Its public members are exactly its RPC methods
 * and the runtime's handlers (the runtime makes every public method callable on the stub; a test lists
 * them); all state is private, and the commands in this folder get a narrow `Room` (room.ts).
 */
import { DurableObject } from "cloudflare:workers";
import { listSigningKeys } from "../../db/tenants";
import { AppError, guard, guardAsync, refuseUpgrade } from "../../errors";
import {
	DEFAULT_TENANT_SETTINGS,
	type HistoryQuery,
	LIMITS,
	PING_FRAME,
	PONG_FRAME,
	PROTOCOL_VERSION,
	type SendMessageBody,
	type TenantSettings,
} from "../../protocol";
import { DO_STORAGE_RESET, testHooksEnabled } from "../../test-hooks";
import { inboxStub } from "../names";
import {
	endSession,
	firstSweep,
	SESSIONS_WORK,
	SigningKeyCheck,
	sessionFromUpgrade,
	sweepSessions,
} from "../sessions";
import { WorkQueue } from "../work-queue";
import {
	authorizeDownload,
	collectUnattached,
	type MediaRecord,
	registerMedia,
	uploadedBy,
} from "./attachments";
import { Broadcaster } from "./broadcaster";
import { drainInboxes, INBOX_WORK, markDelivered } from "./deliver";
import { handleFrame } from "./frames";
import { listMessages } from "./history";
import { addMembers, type CreateInput, checkCreate, createConversation, removeMember } from "./members";
import { MIRROR_WORK, Mirror, type MirrorFault } from "./mirror";
import { InboxOutbox } from "./outbox";
import { RateLimiter } from "./rate-limiter";
import { markRead } from "./read";
import { announceArrival, announceDeparture, replay } from "./replay";
import type { InboxStub, Room } from "./room";
import { migrate } from "./schema";
import { sendMessage } from "./send";
import { attachmentOf, RoomSockets, sendFrame } from "./sockets";
import { ConversationStore } from "./store";

/** Headers the Worker sets on the upgrade request it forwards; the object is reachable only from it. */
export const SOCKET_USER_HEADER = "x-edgechat-user";
export const SOCKET_SETTINGS_HEADER = "x-edgechat-settings";

const noSuchConversation = () => new AppError("conversation_not_found", "No such conversation");

/** The calls a test can make fail as a storage failure does (`injectReset`). */
export type ResettableCall = "create" | "sendMessage" | "registerMedia";

export class Conversation extends DurableObject<Env> {
	/** Null until the conversation exists: storage is created by `create` only. */
	#room: Room | null = null;
	readonly #sockets: RoomSockets;
	readonly #out: Broadcaster;
	readonly #limiter = new RateLimiter();
	readonly #inboxes = new Map<string, InboxStub>();
	#settings: TenantSettings = DEFAULT_TENANT_SETTINGS;
	#settingsJson = "";
	/** Test-only: the call that resets the object once it has done its work. */
	#resetAfter: ResettableCall | null = null;
	/** The tenant's active signing keys, for the sockets' revocation checks (sessions.ts). */
	readonly #keys = new SigningKeyCheck(async () => {
		const tenantId = this.#room?.store.meta?.tenantId;
		return tenantId ? (await listSigningKeys(this.env, tenantId)).map((key) => key.kid) : [];
	});

	constructor(ctx: DurableObjectState, env: Env) {
		super(ctx, env);
		this.#sockets = new RoomSockets(ctx);
		this.#out = new Broadcaster(this.#sockets);
		void ctx.blockConcurrencyWhile(async () => {
			// A request for an id that was never created (a typo, a probe) must not leave an object with
			// tables behind, which would be kept and billed.
			if (hasSchema(ctx.storage.sql)) this.#room = this.#open();
		});
		// Answered by the runtime without waking the object, so an idle room can hibernate.
		ctx.setWebSocketAutoResponse(new WebSocketRequestResponsePair(PING_FRAME, PONG_FRAME));
	}

	// ── RPC from the Worker ──────────────────────────────────────────────────────────────────────
	create(input: CreateInput) {
		return guard(() => {
			if (!this.#room) {
				checkCreate(input); // a refused create leaves no storage behind either
				this.#room = this.#open();
			}
			const created = createConversation(this.#room, input);
			this.#injectedReset("create");
			return { created, conversation: this.#room.store.view() };
		});
	}

	getConversation(userId: string) {
		return guard(() => {
			const room = this.#require();
			room.store.requireMember(userId);
			return room.store.view();
		});
	}

	addMembers(actorId: string, userIds: string[]) {
		return guard(() => {
			const room = this.#require();
			addMembers(room, actorId, userIds);
			return room.store.view();
		});
	}

	removeMember(actorId: string, userId: string) {
		return guard(() => removeMember(this.#require(), actorId, userId));
	}

	sendMessage(userId: string, body: SendMessageBody, settings: TenantSettings) {
		return guard(() => {
			this.#useSettings(settings);
			const result = sendMessage(this.#require(), userId, body);
			this.#injectedReset("sendMessage");
			return result;
		});
	}

	listMessages(userId: string, query: HistoryQuery) {
		return guard(() => listMessages(this.#require(), userId, query));
	}

	markRead(userId: string, seq: number) {
		return guard(() => markRead(this.#require(), userId, seq));
	}

	/** A device of the member acked inbox entries through `seq` (RPC from the member's Inbox). */
	markDelivered(userId: string, seq: number) {
		return guard(() => markDelivered(this.#require(), userId, seq));
	}

	/**
	 * Before an upload: the caller must be a member, and `mediaId` (derived from an Idempotency-Key)
	 * names what they uploaded here before under that key, if they did; then that is the answer.
	 */
	findUpload(userId: string, mediaId: string | null) {
		return guard(() => {
			const room = this.#require();
			room.store.requireMember(userId);
			return mediaId === null ? null : uploadedBy(room.store.sql, userId, mediaId);
		});
	}

	/** The upload route registers media once its bytes are in R2; the send path then checks against it. */
	registerMedia(userId: string, media: MediaRecord) {
		return guard(() => {
			const room = this.#require();
			room.store.requireMember(userId);
			registerMedia(room.store.sql, media);
			this.#injectedReset("registerMedia");
		});
	}

	/** Whether `userId` may download `mediaId`: it was uploaded here and they are a member. */
	authorizeMedia(userId: string, mediaId: string) {
		return guard(() => {
			if (!this.#room) throw new AppError("not_found", "No such media");
			return authorizeDownload(this.#room, userId, mediaId);
		});
	}

	collectUnattachedMedia(olderThanMs: number) {
		return guardAsync(() => collectUnattached(this.#require(), this.env.MEDIA, olderThanMs));
	}

	mirrorStatus() {
		return guard(() => this.#require().mirror.status());
	}

	/** Test-only (refused unless the test hooks are enabled): make the mirror's D1 writes fail. */
	setMirrorFault(fault: MirrorFault): void {
		this.#require().mirror.setFault(fault);
	}

	/**
	 * Test-only (refused unless the test hooks are enabled): the next `call` does its work, then the
	 * object is reset as the runtime resets an object whose storage failed. Nothing the call wrote is
	 * kept (the output gate never opens) and the caller gets the runtime's reset error.
	 */
	injectReset(call: ResettableCall | null): void {
		if (!testHooksEnabled(this.env)) throw new Error("test hooks are disabled");
		this.#resetAfter = call;
	}

	// ── alarm: durable background work (outbox drains), multiplexed by kind ──────────────────────
	override async alarm(): Promise<void> {
		const room = this.#room;
		if (!room) return; // no conversation, no work (an alarm cannot outlive deleteAll)
		await room.work.run({
			[MIRROR_WORK]: () => room.mirror.drain(),
			[INBOX_WORK]: () => drainInboxes(room),
			[SESSIONS_WORK]: async () => sweepSessions(room.sockets.all(), await this.#keys.activeKids()) ?? false,
		});
	}

	// ── WebSockets ───────────────────────────────────────────────────────────────────────────────
	override async fetch(request: Request): Promise<Response> {
		const userId = request.headers.get(SOCKET_USER_HEADER);
		if (request.headers.get("Upgrade")?.toLowerCase() !== "websocket" || !userId) {
			return refuseUpgrade(new AppError("upgrade_required", "Expected a WebSocket upgrade"));
		}
		const settingsHeader = request.headers.get(SOCKET_SETTINGS_HEADER);
		if (settingsHeader) this.#useSettings(JSON.parse(settingsHeader) as TenantSettings);
		const room = this.#room;
		const meta = room?.store.meta;
		if (!room || !meta || !room.store.members.has(userId)) return refuseUpgrade(noSuchConversation());
		const afterParam = new URL(request.url).searchParams.get("after");
		const after = afterParam === null ? null : Number(afterParam);

		// A replay reads from storage: pending broadcasts go first, so the new socket gets each message once.
		room.out.flush();
		const online = room.sockets.online();
		const { 0: client, 1: server } = new WebSocketPair();
		const session = sessionFromUpgrade(request);
		room.sockets.accept(server, { userId, ...session });
		// The alarm ends the socket when its token expires, even if it only ever reads, and checks
		// now and then that its signing key is still active.
		const sweepAt = firstSweep(session);
		if (sweepAt !== null) room.work.schedule(SESSIONS_WORK, sweepAt);
		sendFrame(server, {
			type: "ready",
			conversationId: meta.conversationId,
			lastSeq: room.store.lastSeq,
			protocol: PROTOCOL_VERSION,
		});
		if (after !== null) replay(room, server, after);
		announceArrival(room, server, userId, online);
		return new Response(null, { status: 101, webSocket: client });
	}

	override async webSocketMessage(ws: WebSocket, data: string | ArrayBuffer): Promise<void> {
		const attachment = attachmentOf(ws);
		const room = this.#room;
		if (attachment?.ended) return; // told its session ended; what it still sends is ignored
		if (!room || !attachment || !room.store.members.has(attachment.userId)) {
			this.#end(ws, "removed_from_conversation", "not a member of the conversation");
			return;
		}
		if (attachment.expiresAt > 0 && attachment.expiresAt <= Date.now()) {
			this.#end(ws, "unauthorized", "token expired");
			return;
		}
		if (attachment.kid && this.#keys.stale) this.#checkRevocation(room);
		handleFrame(room, ws, attachment.userId, data);
	}

	override async webSocketClose(ws: WebSocket, code: number, reason: string): Promise<void> {
		this.#leave(ws);
		try {
			ws.close(code, reason); // completes the close handshake with the client's own code
		} catch {
			// Already closed, or a code (1005, 1006) that cannot be sent back.
		}
	}

	override async webSocketError(ws: WebSocket): Promise<void> {
		this.#leave(ws);
	}

	// ── private ──────────────────────────────────────────────────────────────────────────────────
	#end(ws: WebSocket, code: "unauthorized" | "removed_from_conversation", reason: string): void {
		const closeAt = endSession(ws, code, reason);
		this.#room?.work.schedule(SESSIONS_WORK, closeAt);
	}

	/**
	 * A socket acted and what the object knows of the signing keys is stale: ask D1, and end the
	 * sockets whose key was revoked. Not awaited, so the frame is handled at once and in order (at
	 * most the frames of the next round trip get through a revocation).
	 */
	#checkRevocation(room: Room): void {
		void this.#keys.activeKids().then((kids) => {
			if (!kids) return;
			const next = sweepSessions(room.sockets.all(), kids);
			if (next !== null) room.work.schedule(SESSIONS_WORK, next);
		});
	}

	#injectedReset(call: ResettableCall): void {
		if (this.#resetAfter !== call) return;
		this.#resetAfter = null;
		this.ctx.abort(DO_STORAGE_RESET);
	}

	#leave(ws: WebSocket): void {
		const attachment = attachmentOf(ws);
		if (this.#room && attachment) announceDeparture(this.#room, ws, attachment.userId);
	}

	#require(): Room {
		if (!this.#room) throw noSuchConversation();
		return this.#room;
	}

	/** Migrates the schema and builds the room; synchronous, so `create` can call it. */
	#open(): Room {
		const { storage } = this.ctx;
		migrate(storage.sql);
		const store = new ConversationStore(storage.sql);
		const work = new WorkQueue(storage);
		const saved = store.savedSettings();
		if (saved) this.#useSettings(JSON.parse(saved) as TenantSettings, false);
		const self = this;
		return {
			store,
			work,
			outbox: new InboxOutbox(storage.sql),
			mirror: new Mirror(storage.sql, this.env, store, work),
			sockets: this.#sockets,
			out: this.#out,
			limiter: this.#limiter,
			get settings() {
				return self.#settings;
			},
			inboxOf: (userId) => this.#inboxOf(store, userId),
		};
	}

	#inboxOf(store: ConversationStore, userId: string): InboxStub {
		let stub = this.#inboxes.get(userId);
		if (!stub) {
			const { tenantId } = store.requireMeta();
			// Members come and go; the map is bounded by dropping it whole when it outgrows a full room.
			if (this.#inboxes.size > 2 * LIMITS.groupMembers) this.#inboxes.clear();
			stub = inboxStub(this.env, tenantId, userId);
			this.#inboxes.set(userId, stub);
		}
		return stub;
	}

	/**
	 * Every call from the Worker carries the tenant's current settings; the object keeps the latest it
	 * has seen, in storage too, so that frames on sockets that outlived a hibernation are held to the
	 * tenant's limits rather than to the defaults.
	 */
	#useSettings(settings: TenantSettings, persist = true): void {
		const json = JSON.stringify(settings);
		if (json === this.#settingsJson) return;
		// Only a conversation that exists keeps them: a probe of an unknown id must not create storage.
		if (persist && this.#room?.store.meta) this.#room.store.saveSettings(settings);
		this.#settingsJson = json;
		this.#settings = settings;
	}
}

function hasSchema(sql: SqlStorage): boolean {
	return (
		sql.exec("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = '_schema'").toArray().length > 0
	);
}
