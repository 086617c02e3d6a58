/**
 * Every shape that crosses the wire: HTTP bodies and queries, WebSocket frames, errors. The client in
 * client/ imports this module, so it imports nothing but zod.
 */
import { z } from "zod";

export const PROTOCOL_VERSION = 1;

/** Defaults of the limits in docs/api.md; the per-tenant ones can be changed by the platform admin. */
export const LIMITS = {
	textBytes: 16 * 1024,
	frameBytes: 64 * 1024,
	groupMembers: 100,
	replayMessages: 1000,
	historyPage: 200,
	attachments: 10,
	/** Default cap of one media upload; a tenant may be given another (TenantSettings.mediaMaxBytes). */
	mediaBytes: 25 * 1024 * 1024,
	/** A Worker request body is capped at 100 MB on most plans, so no tenant's cap may exceed it. */
	mediaBytesCeiling: 100 * 1000 * 1000,
	/**
	 * Messages written to D1 per mirror drain: one D1 batch of 8-row statements (100 bound parameters
	 * each), 40 of them plus the conversation and members, under the 50 queries a Worker invocation may
	 * make on the free plan.
	 */
	mirrorBatch: 320,
	searchPage: 50,
	/** Rows per D1 query while an export streams. */
	exportPage: 500,
	/** Unattached media younger than this are kept by the clean-up: a client may upload, then send later. */
	unattachedMediaSeconds: 7 * 24 * 3600,
	/** Media deleted per clean-up call (one R2 delete takes at most 1000 keys). */
	mediaCollectBatch: 500,
} as const;

export const Id = z
	.string()
	.min(1)
	.max(64)
	.regex(/^[A-Za-z0-9_-]+$/, "must be 1-64 characters of A-Z a-z 0-9 _ -");
export const UserId = z
	.string()
	.min(1)
	.max(128)
	.regex(/^[A-Za-z0-9_.@+=-]+$/, "must be 1-128 characters of A-Z a-z 0-9 _ . @ + = -");
export type UserId = z.infer<typeof UserId>;
export const ClientId = z.string().min(1).max(64);
export const Seq = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);
const QuerySeq = z.coerce.number().int().min(0).max(Number.MAX_SAFE_INTEGER);

// ── tenants and tokens ─────────────────────────────────────────────────────────────────────────
export const RateLimitSettings = z.object({
	perSecond: z.number().positive().max(100_000),
	burst: z.number().int().min(1).max(100_000),
});
export type RateLimitSettings = z.infer<typeof RateLimitSettings>;

export const MediaMaxBytes = z.number().int().min(1).max(LIMITS.mediaBytesCeiling);

export const TenantSettings = z.object({
	sendRate: RateLimitSettings,
	typingRate: RateLimitSettings,
	mediaMaxBytes: MediaMaxBytes,
});
export type TenantSettings = z.infer<typeof TenantSettings>;

export const DEFAULT_TENANT_SETTINGS: TenantSettings = {
	sendRate: { perSecond: 10, burst: 20 },
	typingRate: { perSecond: 2, burst: 5 },
	mediaMaxBytes: LIMITS.mediaBytes,
};

export const CreateTenantBody = z.object({ name: z.string().trim().min(1).max(200) }).strict();
export const AddDomainBody = z
	.object({
		hostname: z
			.string()
			.trim()
			.toLowerCase()
			.max(253)
			.regex(
				/^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/,
				"must be a hostname without scheme or port",
			),
	})
	.strict();
export const UpdateTenantBody = z
	.object({
		settings: z
			.object({ sendRate: RateLimitSettings, typingRate: RateLimitSettings, mediaMaxBytes: MediaMaxBytes })
			.partial(),
	})
	.strict();

export const CreateTokenBody = z
	.object({
		userId: UserId,
		name: z.string().trim().min(1).max(200).optional(),
		ttlSeconds: z
			.number()
			.int()
			.min(60)
			.max(30 * 24 * 3600)
			.optional(),
	})
	.strict();

// ── conversations ──────────────────────────────────────────────────────────────────────────────
export const CreateConversationBody = z.discriminatedUnion("type", [
	z.object({ type: z.literal("direct"), memberIds: z.tuple([UserId]) }).strict(),
	z
		.object({
			type: z.literal("group"),
			title: z.string().trim().min(1).max(200).optional(),
			memberIds: z.array(UserId).max(1000),
		})
		.strict(),
]);
export type CreateConversationBody = z.infer<typeof CreateConversationBody>;

export const AddMembersBody = z.object({ userIds: z.array(UserId).min(1).max(1000) }).strict();

export const SendMessageBody = z
	.object({
		clientId: ClientId,
		text: z.string().optional(),
		attachments: z.array(Id).max(LIMITS.attachments).optional(),
		replyTo: Seq.min(1).optional(),
	})
	.strict();
export type SendMessageBody = z.infer<typeof SendMessageBody>;

export const HistoryQuery = z
	.object({
		after: QuerySeq.optional(),
		before: QuerySeq.optional(),
		limit: z.coerce.number().int().min(1).max(LIMITS.historyPage).default(50),
	})
	.refine((q) => q.after === undefined || q.before === undefined, "give either after or before, not both");
export type HistoryQuery = z.infer<typeof HistoryQuery>;

export const ReadBody = z.object({ seq: Seq }).strict();

export const SocketQuery = z.object({ after: QuerySeq.optional(), token: z.string().optional() });

// ── media, search, export ──────────────────────────────────────────────────────────────────────
export const MediaUploadQuery = z.object({ conversationId: Id });
export type MediaUploadQuery = z.infer<typeof MediaUploadQuery>;

export const CollectMediaBody = z
	.object({
		olderThanSeconds: z
			.number()
			.int()
			.min(0)
			.max(10 * 365 * 24 * 3600)
			.default(LIMITS.unattachedMediaSeconds),
	})
	.strict();

export interface Media {
	id: string;
	contentType: string;
	size: number;
	width?: number;
	height?: number;
}

export const SearchQuery = z.object({
	q: z.string().trim().min(1).max(200),
	conversationId: Id.optional(),
	limit: z.coerce.number().int().min(1).max(LIMITS.searchPage).default(20),
	cursor: z
		.string()
		.max(300)
		.regex(/^[A-Za-z0-9_-]+$/)
		.optional(),
});
export type SearchQuery = z.infer<typeof SearchQuery>;

/** Where a conversation's D1 mirror stands; `pendingMessages` 0 and no `oldestPendingAt` when caught up. */
export interface MirrorStatus {
	conversationId: string;
	lastSeq: number;
	mirroredSeq: number;
	pendingMessages: number;
	/** Creation time of the oldest message not yet in D1: the mirror lag is now minus this. */
	oldestPendingAt: string | null;
	lagMs: number;
	membersPending: boolean;
	failingSince: string | null;
	lastError: string | null;
	attempts: number;
	nextAttemptAt: string | null;
}

// ── wire shapes ────────────────────────────────────────────────────────────────────────────────
export const Role = z.enum(["owner", "admin", "member"]);
export type Role = z.infer<typeof Role>;

export interface Message {
	id: string;
	conversationId: string;
	seq: number;
	senderId: string;
	clientId: string;
	text: string | null;
	attachments: Attachment[];
	replyTo: number | null;
	createdAt: string;
	editedAt: string | null;
	deletedAt: string | null;
}

export interface Attachment {
	id: string;
	contentType: string;
	size: number;
	url: string;
	/** Pixels, for images whose header tells. */
	width?: number;
	height?: number;
}

export interface Member {
	userId: string;
	role: Role;
	joinedAt: string;
	readSeq: number;
	deliveredSeq: number;
}

export interface Conversation {
	id: string;
	type: "direct" | "group";
	title: string | null;
	createdAt: string;
	createdBy: string;
	lastSeq: number;
	members: Member[];
}

export interface ErrorBody {
	error: { code: string; message: string; requestId: string };
}

// ── WebSocket frames ───────────────────────────────────────────────────────────────────────────
export const ClientFrame = z.discriminatedUnion("type", [
	z.object({ type: z.literal("ping") }),
	z.object({
		type: z.literal("message.send"),
		clientId: ClientId,
		text: z.string().optional(),
		attachments: z.array(Id).max(LIMITS.attachments).optional(),
		replyTo: Seq.min(1).optional(),
	}),
	z.object({ type: z.literal("read.mark"), seq: Seq }),
	z.object({ type: z.literal("typing.start") }),
	z.object({ type: z.literal("typing.stop") }),
	z.object({ type: z.literal("sync"), after: Seq }),
]);
export type ClientFrame = z.infer<typeof ClientFrame>;

export type ServerFrame =
	| { type: "ready"; conversationId: string; lastSeq: number; protocol: number }
	| { type: "pong" }
	| { type: "message.created"; message: Message }
	| { type: "messages.created"; messages: Message[] }
	| { type: "message.ack"; clientId: string; seq: number; id: string; duplicate: boolean }
	| { type: "read.updated"; userId: string; seq: number }
	| { type: "delivered.updated"; userId: string; seq: number }
	| { type: "deliveries.updated"; deliveries: { userId: string; seq: number }[] }
	| { type: "typing"; userId: string; active: boolean }
	| { type: "presence"; userId: string; online: boolean }
	| { type: "replay.truncated"; lastSentSeq: number; lastSeq: number }
	| { type: "member.added"; userIds: string[] }
	| { type: "member.removed"; userId: string }
	| { type: "error"; code: string; message: string; clientId?: string; retryAfter?: number };

/** The exact text of a ping frame: answered by the runtime without waking a hibernated object. */
export const PING_FRAME = '{"type":"ping"}';
export const PONG_FRAME = '{"type":"pong"}';

// ── inbox ──────────────────────────────────────────────────────────────────────────────────────
export const INBOX_LIMITS = {
	/** Unacked inbox entries older than this are dropped by the inbox's alarm (docs/api.md). */
	retentionMs: 30 * 24 * 3600 * 1000,
	/** Entries pushed when a device connects; a larger backlog ends in `inbox.truncated`. */
	replayEntries: 1000,
	entriesPage: 500,
	conversationsPage: 100,
} as const;

export const InboxQuery = z.object({
	after: QuerySeq.optional(),
	limit: z.coerce.number().int().min(1).max(INBOX_LIMITS.entriesPage).default(100),
});
export type InboxQuery = z.infer<typeof InboxQuery>;

export const InboxAckBody = z.object({ cursor: Seq }).strict();

export const ConversationListQuery = z.object({
	cursor: z
		.string()
		.max(200)
		.regex(/^[0-9]+\.[A-Za-z0-9_-]+$/, "must be a nextCursor of an earlier page")
		.optional(),
	limit: z.coerce.number().int().min(1).max(INBOX_LIMITS.conversationsPage).default(50),
});
export type ConversationListQuery = z.infer<typeof ConversationListQuery>;

export interface InboxEntry {
	cursor: number;
	conversationId: string;
	message: Message;
}

/** One row of a user's conversation list (the inbox's index), as `GET /v1/conversations` answers it. */
export interface ConversationSummary {
	id: string;
	type: "direct" | "group";
	title: string | null;
	role: Role;
	createdAt: string;
	/** Latest activity: the last message's time, or when the user joined. The list's order. */
	updatedAt: string;
	lastSeq: number;
	lastMessage: Message | null;
	readSeq: number;
	/** Messages from others after the user's read seq. */
	unreadCount: number;
}

export const InboxClientFrame = z.discriminatedUnion("type", [
	z.object({ type: z.literal("ping") }),
	z.object({ type: z.literal("inbox.ack"), cursor: Seq }),
]);
export type InboxClientFrame = z.infer<typeof InboxClientFrame>;

export type InboxServerFrame =
	| { type: "ready"; protocol: number; lastCursor: number }
	| { type: "pong" }
	| ({ type: "inbox.entry" } & InboxEntry)
	/** The connect-time push stopped at `cursor`; page the rest with `GET /v1/inbox?after=cursor`. */
	| { type: "inbox.truncated"; cursor: number }
	| { type: "conversation.updated"; conversation: ConversationSummary }
	| { type: "conversation.removed"; conversationId: string }
	| { type: "error"; code: string; message: string };
