/**
 * FROZEN: the wire schemas of protocol 1 as they were at commit 9551964 (src/protocol.ts), which the
 * frozen client reads and against which every frame the current server sends it is checked. Never
 * edit it.
 */
/**
 * The contract: every shape that crosses the wire, in both directions — HTTP bodies, queries and
 * answers, WebSocket frames, errors — as zod schemas, with their types inferred from them. The
 * OpenAPI and AsyncAPI documents are generated from these schemas (src/api-docs/), and the client in
 * client/ imports this module, so it imports nothing but zod (a lint rule in biome.json enforces it).
 *
 * `.meta({ id })` names a schema in the generated documents; a schema and its type share one name.
 * Server-side tuning (batch sizes, retention, coalescing) lives in src/config.ts, not here.
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
	searchPage: 50,
	/**
	 * A JSON request body, in bytes as sent: a few times the largest valid body written plainly (1,000
	 * user ids of 128 characters are ~131 KB; a message's 16 KiB of text ~17 KB), read no further.
	 */
	jsonBodyBytes: 256 * 1024,
	/** The query string, in bytes as sent (percent-encoded), `?` excluded: room for a `?token=`. */
	queryBytes: 4 * 1024,
	/** One request header's value, and all of them together (names and values, Cookie not counted). */
	headerBytes: 8 * 1024,
	headersBytes: 32 * 1024,
	/** Unattached media younger than this are kept by the clean-up: a client may upload, then send later. */
	unattachedMediaSeconds: 7 * 24 * 3600,
} as const;

export const INBOX_LIMITS = {
	/** Entries pushed when a device connects; a larger backlog ends in `inbox.truncated`. */
	replayEntries: 10_000,
	entriesPage: 500,
	conversationsPage: 100,
} as const;

// ── primitives: every string and every number in a query is built from these ─────────────────────
/**
 * Strings: well-formed Unicode only. A lone UTF-16 surrogate (`"\ud800"` in JSON) is no character:
 * stored, it would not survive a round trip through UTF-8 (SQLite, D1, the wire) unchanged, so a
 * retry would not find its original. Every string of the protocol is `Str` (a test walks every
 * schema), so the check cannot be forgotten in a new field. Lengths (`.min`, `.max`) count
 * characters, i.e. Unicode code points, as zod and JSON Schema (`maxLength`) do; sizes (text, bodies,
 * frames) count bytes of UTF-8.
 */
const LONE_SURROGATE = /\p{Surrogate}/u;
export const wellFormed = z.refine<string>((value) => !LONE_SURROGATE.test(value), {
	message: "must be well-formed Unicode (no lone surrogates)",
	abort: true,
});
export const Str = z.string().check(wellFormed);

/**
 * A number in a query string: a decimal integer as digits only (no sign, no leading zero, no spaces,
 * no exponent, no fraction, no other base), within [min, max]. `Number()` and `z.coerce` would take
 * "", " 5", "+1", "0x10" and "1e1" for integers.
 */
export function queryInteger(min: number, max: number) {
	return Str.regex(/^(0|[1-9][0-9]*)$/, "must be a decimal integer (digits only)")
		.transform(Number)
		.pipe(z.number().int().min(min).max(max))
		.meta({ type: "integer", minimum: min, maximum: max });
}

// ── errors ───────────────────────────────────────────────────────────────────────────────────────
/**
 * Every error code, with its HTTP status and its WebSocket close code: the one table of docs/api.md.
 * The server answers and closes through it (src/errors.ts), and so does the client.
 */
export const ERRORS = {
	bad_request: { status: 400, close: 4400 },
	invalid_json: { status: 400, close: 4400 },
	text_required: { status: 400, close: 4400 },
	invalid_reply_to: { status: 400, close: 4400 },
	invalid_seq: { status: 400, close: 4400 },
	invalid_cursor: { status: 400, close: 4400 },
	invalid_attachment: { status: 400, close: 4400 },
	too_many_members: { status: 400, close: 4400 },
	direct_conversation: { status: 400, close: 4400 },
	unknown_frame: { status: 400, close: 4400 },
	unauthorized: { status: 401, close: 4401 },
	forbidden: { status: 403, close: 4403 },
	removed_from_conversation: { status: 403, close: 4403 },
	not_found: { status: 404, close: 4404 },
	tenant_not_found: { status: 404, close: 4404 },
	conversation_not_found: { status: 404, close: 4404 },
	method_not_allowed: { status: 405, close: 4405 },
	conflict: { status: 409, close: 4409 },
	domain_taken: { status: 409, close: 4409 },
	payload_too_large: { status: 413, close: 1009 },
	text_too_long: { status: 413, close: 1009 },
	frame_too_large: { status: 413, close: 1009 },
	query_too_long: { status: 414, close: 4414 },
	unsupported_media_type: { status: 415, close: 4415 },
	range_not_satisfiable: { status: 416, close: 4416 },
	upgrade_required: { status: 426, close: 4426 },
	rate_limited: { status: 429, close: 4429 },
	headers_too_large: { status: 431, close: 4431 },
	internal: { status: 500, close: 1011 },
	unavailable: { status: 503, close: 1011 },
} as const satisfies Record<string, { status: number; close: number }>;

type ErrorCodeName = keyof typeof ERRORS;
export const ErrorCode = z
	.enum(Object.keys(ERRORS) as [ErrorCodeName, ...ErrorCodeName[]])
	.meta({ id: "ErrorCode", description: "A machine-readable error code; the table in docs/api.md." });
export type ErrorCode = z.infer<typeof ErrorCode>;

export function isErrorCode(value: unknown): value is ErrorCode {
	return typeof value === "string" && Object.hasOwn(ERRORS, value);
}

/** Close codes that are not errors. */
export const CLOSE_NORMAL = 1000;

/** What every refusal carries, whatever the transport (HTTP body, error frame, RPC, upgrade). */
export const ErrorPayload = z.object({
	code: ErrorCode,
	message: Str,
	/** Seconds to wait before retrying; with `rate_limited` (and `unavailable`). */
	retryAfter: z.number().int().positive().optional(),
});
export type ErrorPayload = z.infer<typeof ErrorPayload>;

export const ErrorBody = z
	.object({
		error: z.object({ code: ErrorCode, message: Str, requestId: Str }),
	})
	.meta({ id: "ErrorBody", description: "The body of every error answer." });
export type ErrorBody = z.infer<typeof ErrorBody>;

// ── scalars ──────────────────────────────────────────────────────────────────────────────────────
export const Id = Str.min(1)
	.max(64)
	.regex(/^[A-Za-z0-9_-]+$/, "must be 1-64 characters of A-Z a-z 0-9 _ -");
export const UserId = Str.min(1)
	.max(128)
	.regex(/^[A-Za-z0-9_.@+=-]+$/, "must be 1-128 characters of A-Z a-z 0-9 _ . @ + = -");
export type UserId = z.infer<typeof UserId>;
export const ClientId = Str.min(1).max(64);
/**
 * `Idempotency-Key` (draft-ietf-httpapi-idempotency-key-header): a retry of a creation with the same
 * key answers the original (200, `Idempotent-Replayed: true`) instead of creating it again.
 */
export const IdempotencyKey = Str.regex(
	/^[\x21-\x7E]{1,255}$/,
	"must be 1-255 visible ASCII characters",
).meta({
	description:
		"Makes the creation safe to retry: the same key again answers the original (200, `Idempotent-Replayed: true`).",
});
export const IdempotencyHeaders = z.object({ "idempotency-key": IdempotencyKey.optional() });
/** The header of an answer that replays an earlier one (a retry with the same key). */
export const IDEMPOTENT_REPLAYED = "Idempotent-Replayed";
export const Seq = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);
const QuerySeq = queryInteger(0, Number.MAX_SAFE_INTEGER);
const Timestamp = z.iso.datetime().check(wellFormed).meta({ description: "ISO 8601, UTC" });

// ── tenants and tokens ───────────────────────────────────────────────────────────────────────────
export const RateLimitSettings = z
	.object({
		perSecond: z.number().positive().max(100_000),
		burst: z.number().int().min(1).max(100_000),
	})
	.meta({ id: "RateLimitSettings" });
export type RateLimitSettings = z.infer<typeof RateLimitSettings>;

export const MediaMaxBytes = z.number().int().min(1).max(LIMITS.mediaBytesCeiling);

export const TenantSettings = z
	.object({
		sendRate: RateLimitSettings,
		typingRate: RateLimitSettings,
		mediaMaxBytes: MediaMaxBytes,
	})
	.meta({ id: "TenantSettings" });
export type TenantSettings = z.infer<typeof TenantSettings>;

export const DEFAULT_TENANT_SETTINGS: TenantSettings = {
	sendRate: { perSecond: 10, burst: 20 },
	typingRate: { perSecond: 2, burst: 5 },
	mediaMaxBytes: LIMITS.mediaBytes,
};

export const CreateTenantBody = z.object({ name: Str.trim().min(1).max(200) }).strict();
export const CreatedTenant = z
	.object({
		tenant: z.object({ id: Id, name: Str }),
		apiKey: Str.meta({ description: "Shown once; only its hash is stored." }),
		signingKeyId: Id.meta({ description: "The `kid` to put in self-minted tokens." }),
		signingSecret: Str.meta({ description: "HS256 secret of the signing key; shown once." }),
	})
	.meta({ id: "CreatedTenant" });
export type CreatedTenant = z.infer<typeof CreatedTenant>;

export const Tenant = z
	.object({ id: Id, name: Str, settings: TenantSettings, createdAt: Timestamp })
	.meta({ id: "Tenant" });
export type Tenant = z.infer<typeof Tenant>;
export const TenantResponse = z.object({ tenant: Tenant }).meta({ id: "TenantResponse" });

export const AddDomainBody = z
	.object({
		hostname: Str.trim()
			.toLowerCase()
			.max(253)
			.regex(
				/^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/,
				"must be a hostname without scheme or port",
			),
	})
	.strict();
export const DomainResponse = z
	.object({ domain: z.object({ hostname: Str, tenantId: Id }) })
	.meta({ id: "DomainResponse" });

export const UpdateTenantBody = z
	.object({
		settings: z
			.object({ sendRate: RateLimitSettings, typingRate: RateLimitSettings, mediaMaxBytes: MediaMaxBytes })
			.partial(),
	})
	.strict();

export const SigningKeyResponse = z
	.object({ signingKeyId: Id, signingSecret: Str })
	.meta({ id: "SigningKeyResponse" });

export const CreateTokenBody = z
	.object({
		userId: UserId,
		name: Str.trim().min(1).max(200).optional(),
		ttlSeconds: z
			.number()
			.int()
			.min(60)
			.max(30 * 24 * 3600)
			.optional()
			.meta({ description: "Default 86,400 (a day)." }),
	})
	.strict();
export const TokenResponse = z.object({ token: Str, expiresAt: Timestamp }).meta({ id: "TokenResponse" });

// ── messages and conversations ───────────────────────────────────────────────────────────────────
export const Role = z.enum(["owner", "admin", "member"]).meta({ id: "Role" });
export type Role = z.infer<typeof Role>;

export const ConversationType = z.enum(["direct", "group"]);
export type ConversationType = z.infer<typeof ConversationType>;

export const Attachment = z
	.object({
		id: Id,
		contentType: Str,
		size: z.number().int().nonnegative(),
		url: Str.meta({ description: "Where members download it (GET /v1/media/:id)." }),
		/** Pixels, for images whose header tells. */
		width: z.number().int().positive().optional(),
		height: z.number().int().positive().optional(),
	})
	.meta({ id: "Attachment" });
export type Attachment = z.infer<typeof Attachment>;

export const Message = z
	.object({
		id: Str,
		conversationId: Id,
		seq: Seq.meta({ description: "Gap-free per conversation, from 1: the message's position." }),
		senderId: UserId,
		clientId: ClientId,
		text: Str.nullable(),
		attachments: z.array(Attachment),
		replyTo: Seq.nullable(),
		createdAt: Timestamp,
		editedAt: Timestamp.nullable(),
		deletedAt: Timestamp.nullable(),
	})
	.meta({ id: "Message" });
export type Message = z.infer<typeof Message>;

export const Member = z
	.object({
		userId: UserId,
		role: Role,
		joinedAt: Timestamp,
		readSeq: Seq,
		deliveredSeq: Seq,
	})
	.meta({ id: "Member" });
export type Member = z.infer<typeof Member>;

/** A conversation as its members see it (`GET /v1/conversations/:id`). */
export const ConversationView = z
	.object({
		id: Id,
		type: ConversationType,
		title: Str.nullable(),
		createdAt: Timestamp,
		createdBy: UserId,
		lastSeq: Seq,
		members: z.array(Member),
	})
	.meta({ id: "Conversation" });
export type ConversationView = z.infer<typeof ConversationView>;
export const ConversationResponse = z
	.object({ conversation: ConversationView })
	.meta({ id: "ConversationResponse" });

export const CreateConversationBody = z.discriminatedUnion("type", [
	z.object({ type: z.literal("direct"), memberIds: z.tuple([UserId]) }).strict(),
	z
		.object({
			type: z.literal("group"),
			title: Str.trim().min(1).max(200).optional(),
			memberIds: z.array(UserId).max(1000),
			clientId: ClientId.optional().meta({
				description:
					"The creator's idempotency key: the same clientId again answers the group it created (200), whatever the rest of the body.",
			}),
		})
		.strict(),
]);
export type CreateConversationBody = z.infer<typeof CreateConversationBody>;

export const AddMembersBody = z.object({ userIds: z.array(UserId).min(1).max(1000) }).strict();

export const SendMessageBody = z
	.object({
		clientId: ClientId.meta({
			description: "The sender's idempotency key: the same clientId again answers the original.",
		}),
		text: Str.optional(),
		attachments: z.array(Id).max(LIMITS.attachments).optional(),
		replyTo: Seq.min(1).optional(),
	})
	.strict();
export type SendMessageBody = z.infer<typeof SendMessageBody>;
export const MessageResponse = z.object({ message: Message }).meta({ id: "MessageResponse" });

export const HistoryQuery = z
	.object({
		after: QuerySeq.optional(),
		before: QuerySeq.optional(),
		limit: queryInteger(1, LIMITS.historyPage).default(50),
	})
	.refine((q) => q.after === undefined || q.before === undefined, "give either after or before, not both");
export type HistoryQuery = z.infer<typeof HistoryQuery>;
export const MessagePage = z.object({ messages: z.array(Message), hasMore: z.boolean() }).meta({
	id: "MessagePage",
	description: "Ascending with `after`, descending otherwise.",
});
export type MessagePage = z.infer<typeof MessagePage>;

export const ReadBody = z.object({ seq: Seq }).strict();

export const SocketQuery = z.object({
	after: QuerySeq.optional().meta({ description: "Replay every message after this seq, then go live." }),
	token: Str.optional().meta({
		description: "The user's token, for browsers (they cannot set headers on an upgrade).",
	}),
});
export const InboxSocketQuery = SocketQuery.pick({ token: true });

// ── media, search, export, the mirror ────────────────────────────────────────────────────────────
export const MediaUploadQuery = z.object({ conversationId: Id });
export type MediaUploadQuery = z.infer<typeof MediaUploadQuery>;

export const Media = z
	.object({
		id: Id,
		contentType: Str,
		size: z.number().int().nonnegative(),
		width: z.number().int().positive().optional(),
		height: z.number().int().positive().optional(),
	})
	.meta({ id: "Media" });
export type Media = z.infer<typeof Media>;
export const MediaResponse = z.object({ media: Media }).meta({ id: "MediaResponse" });

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
export const CollectMediaResponse = z
	.object({
		deleted: z.array(Id),
		more: z.boolean().meta({ description: "Call again while true." }),
	})
	.meta({ id: "CollectMediaResponse" });

export const SearchQuery = z.object({
	q: Str.trim().min(1).max(200),
	conversationId: Id.optional(),
	limit: queryInteger(1, LIMITS.searchPage).default(20),
	cursor: Str.regex(/^(0|[1-9][0-9]{0,15})_(0|[1-9][0-9]{0,15})$/, "must be a nextCursor of an earlier page")
		.optional()
		.meta({ description: "The `nextCursor` of the previous page." }),
});
export type SearchQuery = z.infer<typeof SearchQuery>;
export const SearchPage = z
	.object({ messages: z.array(Message), nextCursor: Str.nullable() })
	.meta({ id: "SearchPage" });
export type SearchPage = z.infer<typeof SearchPage>;

export const ExportQuery = z.object({
	after: QuerySeq.optional().meta({
		description: "Resume: only the messages after this seq (the trailer's `next` says where to resume).",
	}),
	limit: z.coerce.number().int().min(1).max(1_000_000).optional().meta({
		description: "At most this many messages in this answer (fewer if one answer cannot hold them).",
	}),
});
export type ExportQuery = z.infer<typeof ExportQuery>;

/**
 * The last line of every export: whether it holds everything the mirror had after `after`, and if not,
 * where to resume. A message line never has an `export` key, so the two cannot be confused.
 */
export const ExportTrailer = z
	.object({
		export: z.object({
			complete: z.boolean().meta({
				description: "True when the lines above hold every mirrored message after `after`.",
			}),
			lastSeq: Seq.meta({ description: "The seq of the last message above (`after` when there is none)." }),
			next: Str.nullable().meta({
				description: "The query that resumes the export (`?after=lastSeq`); null when complete.",
			}),
			error: ErrorPayload.optional().meta({
				description: "Why it stopped early when it failed (a D1 page that could not be read).",
			}),
		}),
	})
	.meta({ id: "ExportTrailer" });
export type ExportTrailer = z.infer<typeof ExportTrailer>;
/** One line of an export: a message, or the trailer that ends it. */
export const ExportLine = z.union([Message, ExportTrailer]).meta({ id: "ExportLine" });

/** Where a conversation's D1 mirror stands; `pendingMessages` 0 and no `oldestPendingAt` when caught up. */
export const MirrorStatus = z
	.object({
		conversationId: Id,
		lastSeq: Seq,
		mirroredSeq: Seq,
		pendingMessages: z.number().int().nonnegative(),
		/** Creation time of the oldest message not yet in D1: the mirror lag is now minus this. */
		oldestPendingAt: Timestamp.nullable(),
		lagMs: z.number().nonnegative(),
		membersPending: z.boolean(),
		failingSince: Timestamp.nullable(),
		lastError: Str.nullable(),
		attempts: z.number().int().nonnegative(),
		/** A drain is writing to D1 right now; it has no next attempt time until it ends. */
		draining: z.boolean(),
		/** When the next drain is due; null while one is running (unless more was stored meanwhile) or none is. */
		nextAttemptAt: Timestamp.nullable(),
	})
	.meta({ id: "MirrorStatus" });
export type MirrorStatus = z.infer<typeof MirrorStatus>;
export const MirrorStatusResponse = z.object({ mirror: MirrorStatus }).meta({ id: "MirrorStatusResponse" });

// ── the inbox and the conversation list ──────────────────────────────────────────────────────────
export const InboxQuery = z.object({
	after: QuerySeq.optional(),
	limit: queryInteger(1, INBOX_LIMITS.entriesPage).default(100),
});
export type InboxQuery = z.infer<typeof InboxQuery>;

export const InboxAckBody = z.object({ cursor: Seq }).strict();

export const InboxEntry = z
	.object({ cursor: Seq, conversationId: Id, message: Message })
	.meta({ id: "InboxEntry" });
export type InboxEntry = z.infer<typeof InboxEntry>;
export const InboxPage = z
	.object({ entries: z.array(InboxEntry), nextCursor: Seq.nullable() })
	.meta({ id: "InboxPage" });
export type InboxPage = z.infer<typeof InboxPage>;

export const ConversationListQuery = z.object({
	cursor: Str.regex(/^(0|[1-9][0-9]{0,15})\.[A-Za-z0-9_-]{1,64}$/, "must be a nextCursor of an earlier page")
		.optional()
		.meta({ description: "The `nextCursor` of the previous page." }),
	limit: queryInteger(1, INBOX_LIMITS.conversationsPage).default(50),
});
export type ConversationListQuery = z.infer<typeof ConversationListQuery>;

/** One row of a user's conversation list (the inbox's index), as `GET /v1/conversations` answers it. */
export const ConversationSummary = z
	.object({
		id: Id,
		type: ConversationType,
		title: Str.nullable(),
		role: Role,
		createdAt: Timestamp,
		/** Latest activity: the last message's time, or when the user joined. The list's order. */
		updatedAt: Timestamp,
		lastSeq: Seq,
		lastMessage: Message.nullable(),
		readSeq: Seq,
		/** Messages from others after the user's read seq. */
		unreadCount: z.number().int().nonnegative(),
	})
	.meta({ id: "ConversationSummary" });
export type ConversationSummary = z.infer<typeof ConversationSummary>;
export const ConversationListPage = z
	.object({
		conversations: z.array(ConversationSummary),
		nextCursor: Str.nullable(),
	})
	.meta({ id: "ConversationListPage" });
export type ConversationListPage = z.infer<typeof ConversationListPage>;

// ── WebSocket frames: the conversation socket ────────────────────────────────────────────────────
/** The exact text of a ping frame: answered by the runtime without waking a hibernated object. */
export const PING_FRAME = '{"type":"ping"}';
export const PONG_FRAME = '{"type":"pong"}';

/** A frame schema: an object told apart by its literal `type`. */
const frame = <T extends string, S extends z.ZodRawShape>(
	type: T,
	shape: S,
	id: string,
	description: string,
) => z.object({ type: z.literal(type), ...shape }).meta({ id, description });

export const PingFrame = frame("ping", {}, "PingFrame", "Keep-alive; answered with `pong`.");
export const MessageSendFrame = frame(
	"message.send",
	{
		clientId: ClientId,
		text: Str.optional(),
		attachments: z.array(Id).max(LIMITS.attachments).optional(),
		replyTo: Seq.min(1).optional(),
	},
	"MessageSendFrame",
	"Stores and broadcasts a message; answered by exactly one `message.ack` or one `error` carrying the clientId.",
);
export const ReadMarkFrame = frame(
	"read.mark",
	{ seq: Seq },
	"ReadMarkFrame",
	"Moves the read watermark; `read.updated` to everyone when it moved.",
);
export const TypingStartFrame = frame("typing.start", {}, "TypingStartFrame", "`typing` to the others.");
export const TypingStopFrame = frame("typing.stop", {}, "TypingStopFrame", "`typing` to the others.");
export const SyncFrame = frame(
	"sync",
	{ after: Seq },
	"SyncFrame",
	"Replays every message with seq > after, as on connect.",
);

export const ClientFrame = z.discriminatedUnion("type", [
	PingFrame,
	MessageSendFrame,
	ReadMarkFrame,
	TypingStartFrame,
	TypingStopFrame,
	SyncFrame,
]);
export type ClientFrame = z.infer<typeof ClientFrame>;

const PongFrame = frame("pong", {}, "PongFrame", "The answer to `ping`.");
/**
 * The clientId an error frame echoes: the client's own string back, as it sent it, even one the
 * protocol refuses for a lone surrogate (a client that cut an emoji in half must still learn which
 * send failed). The one string of the protocol not held to `wellFormed`; JSON.stringify writes a
 * lone surrogate as its `\uXXXX` escape, so the frame itself is valid UTF-8 JSON.
 */
export const EchoedClientId = z.string().min(1).max(64);
const ErrorFrame = frame(
	"error",
	{ ...ErrorPayload.shape, clientId: EchoedClientId.optional() },
	"ErrorFrame",
	"A frame was refused; the socket stays open. Carries the clientId of a refused `message.send` whenever it could be read.",
);
export type ErrorFrame = z.infer<typeof ErrorFrame>;
/** On both sockets: the server ended the session, and asks the client to close (docs/api.md). */
const SessionEndedFrame = frame(
	"session.ended",
	{
		code: ErrorCode,
		message: Str,
		closeCode: z.number().int().meta({ description: "Close the socket with this code (4000 + status)." }),
	},
	"SessionEndedFrame",
	"The last frame: the server ended the session (the member was removed, the token expired or its signing key was revoked). Close the socket with `closeCode`; nothing else is sent, frames are ignored, and the server closes it itself a few seconds later.",
);

export const ServerFrame = z.discriminatedUnion("type", [
	frame(
		"ready",
		{ conversationId: Id, lastSeq: Seq, protocol: z.number().int() },
		"ReadyFrame",
		"First, on every connection.",
	),
	PongFrame,
	frame(
		"message.created",
		{ message: Message },
		"MessageCreatedFrame",
		"A new message, to every socket (the sender's too); also the replay.",
	),
	frame(
		"messages.created",
		{ messages: z.array(Message) },
		"MessagesCreatedFrame",
		"Several new messages at once, in seq order (a busy room batches a burst): as many `message.created`.",
	),
	frame(
		"message.ack",
		{ clientId: ClientId, seq: Seq, id: Str, duplicate: z.boolean() },
		"MessageAckFrame",
		"To the sending socket, once per `message.send` stored or retried (`duplicate: true`).",
	),
	frame("read.updated", { userId: UserId, seq: Seq }, "ReadUpdatedFrame", "A member's read watermark moved."),
	frame(
		"delivered.updated",
		{ userId: UserId, seq: Seq },
		"DeliveredUpdatedFrame",
		"A member's delivered watermark moved.",
	),
	frame(
		"deliveries.updated",
		{ deliveries: z.array(z.object({ userId: UserId, seq: Seq })) },
		"DeliveriesUpdatedFrame",
		"Several members' delivered watermarks moved at once: as many `delivered.updated`.",
	),
	frame(
		"typing",
		{ userId: UserId, active: z.boolean() },
		"TypingFrame",
		"A member started or stopped typing.",
	),
	frame(
		"presence",
		{ userId: UserId, online: z.boolean() },
		"PresenceFrame",
		"A member's first socket opened or last socket closed; on connect, one per member already online.",
	),
	frame(
		"replay.truncated",
		{ lastSentSeq: Seq, lastSeq: Seq },
		"ReplayTruncatedFrame",
		"A replay stopped at the cap: page `GET …/messages?after=lastSentSeq` until `hasMore` is false.",
	),
	frame("member.added", { userIds: z.array(UserId) }, "MemberAddedFrame", "Members joined."),
	frame("member.removed", { userId: UserId }, "MemberRemovedFrame", "A member left or was removed."),
	SessionEndedFrame,
	ErrorFrame,
]);
export type ServerFrame = z.infer<typeof ServerFrame>;

// ── WebSocket frames: the inbox socket ───────────────────────────────────────────────────────────
export const InboxAckFrame = frame(
	"inbox.ack",
	{ cursor: Seq },
	"InboxAckFrame",
	"As `POST /v1/inbox/ack`: drops the entries through `cursor` for every device.",
);
export const InboxClientFrame = z.discriminatedUnion("type", [PingFrame, InboxAckFrame]);
export type InboxClientFrame = z.infer<typeof InboxClientFrame>;

export const InboxServerFrame = z.discriminatedUnion("type", [
	frame(
		"ready",
		{ protocol: z.number().int(), lastCursor: Seq },
		"InboxReadyFrame",
		"First, on every connection; then every unacked entry.",
	),
	PongFrame,
	frame(
		"inbox.entry",
		InboxEntry.shape,
		"InboxEntryFrame",
		"An entry: a message that arrived while the user had no socket open on its conversation.",
	),
	frame(
		"inbox.truncated",
		{ cursor: Seq },
		"InboxTruncatedFrame",
		"The connect-time push stopped at `cursor`; page the rest with `GET /v1/inbox?after=cursor`.",
	),
	frame(
		"conversation.updated",
		{ conversation: ConversationSummary },
		"ConversationUpdatedFrame",
		"The user's row of the conversation list changed.",
	),
	frame(
		"conversation.removed",
		{ conversationId: Id },
		"ConversationRemovedFrame",
		"The user left or was removed from the conversation.",
	),
	SessionEndedFrame,
	ErrorFrame,
]);
export type InboxServerFrame = z.infer<typeof InboxServerFrame>;
