/**
 * The D1 schema: the tenant directory, and the history mirrored from the Conversation objects (which
 * stay the source of truth). drizzle-kit generates migrations/d1 from this file; the full-text index
 * over mirrored messages (FTS5 and its triggers) is a custom migration, since drizzle cannot express it.
 */
import { index, integer, primaryKey, sqliteTable, text, uniqueIndex } from "drizzle-orm/sqlite-core";

export const tenants = sqliteTable("tenants", {
	id: text("id").primaryKey(),
	name: text("name").notNull(),
	/** JSON of TenantSettings overrides; missing keys take the defaults in protocol.ts. */
	settings: text("settings").notNull().default("{}"),
	createdAt: integer("created_at").notNull(),
});

export const tenantDomains = sqliteTable(
	"tenant_domains",
	{
		hostname: text("hostname").primaryKey(),
		tenantId: text("tenant_id")
			.notNull()
			.references(() => tenants.id),
		createdAt: integer("created_at").notNull(),
	},
	(t) => [index("tenant_domains_tenant").on(t.tenantId)],
);

export const apiKeys = sqliteTable(
	"api_keys",
	{
		id: text("id").primaryKey(),
		tenantId: text("tenant_id")
			.notNull()
			.references(() => tenants.id),
		/** SHA-256 of the key, hex. The key itself is shown once, at creation. */
		keyHash: text("key_hash").notNull().unique(),
		createdAt: integer("created_at").notNull(),
		revokedAt: integer("revoked_at"),
	},
	(t) => [index("api_keys_tenant").on(t.tenantId)],
);

export const signingKeys = sqliteTable(
	"signing_keys",
	{
		/** The JWT `kid`. */
		kid: text("kid").primaryKey(),
		tenantId: text("tenant_id")
			.notNull()
			.references(() => tenants.id),
		/** HMAC secret for HS256. Stored in clear because verification needs it; D1 is encrypted at rest. */
		secret: text("secret").notNull(),
		createdAt: integer("created_at").notNull(),
		revokedAt: integer("revoked_at"),
	},
	(t) => [index("signing_keys_tenant").on(t.tenantId)],
);

/**
 * What a creation on the platform API answered, kept for its Idempotency-Key so that a retry answers
 * the same (db/idempotency.ts). The answer holds secrets shown once (an API key), so it is stored
 * sealed with a key derived from PLATFORM_ADMIN_KEY, which only the operator's retry can present;
 * rows older than a day are no longer replayed.
 */
export const idempotencyKeys = sqliteTable(
	"idempotency_keys",
	{
		/** The operation and its target, e.g. `tenants` or `signing-keys:<tenantId>`. */
		scope: text("scope").notNull(),
		key: text("key").notNull(),
		/** SHA-256 of the request the key was first used with: another request under it is refused. */
		fingerprint: text("fingerprint").notNull(),
		/** The answer's status and body, sealed (AES-GCM). */
		response: text("response").notNull(),
		createdAt: integer("created_at").notNull(),
	},
	(t) => [primaryKey({ columns: [t.scope, t.key] }), index("idempotency_keys_created").on(t.createdAt)],
);

// ── the history mirror (written only by the Conversation objects' mirror drain) ───────────────────

export const mirroredConversations = sqliteTable(
	"mirrored_conversations",
	{
		tenantId: text("tenant_id").notNull(),
		conversationId: text("conversation_id").notNull(),
		type: text("type", { enum: ["direct", "group"] }).notNull(),
		title: text("title"),
		createdBy: text("created_by").notNull(),
		createdAt: integer("created_at").notNull(),
		/** The highest seq mirrored so far. */
		lastSeq: integer("last_seq").notNull(),
		updatedAt: integer("updated_at").notNull(),
	},
	(t) => [primaryKey({ columns: [t.tenantId, t.conversationId] })],
);

export const mirroredMembers = sqliteTable(
	"mirrored_members",
	{
		tenantId: text("tenant_id").notNull(),
		conversationId: text("conversation_id").notNull(),
		userId: text("user_id").notNull(),
		role: text("role", { enum: ["owner", "admin", "member"] }).notNull(),
		joinedAt: integer("joined_at").notNull(),
	},
	(t) => [
		primaryKey({ columns: [t.tenantId, t.conversationId, t.userId] }),
		// Search starts from "the conversations this user is in".
		index("mirrored_members_user").on(t.tenantId, t.userId),
	],
);

export const mirroredMessages = sqliteTable(
	"mirrored_messages",
	{
		/**
		 * An explicit rowid: the FTS5 index refers to rows by it, and an implicit rowid may change on
		 * VACUUM (https://www.sqlite.org/lang_vacuum.html), which would detach the index from its rows.
		 */
		docId: integer("doc_id").primaryKey(),
		tenantId: text("tenant_id").notNull(),
		conversationId: text("conversation_id").notNull(),
		seq: integer("seq").notNull(),
		id: text("id").notNull(),
		senderId: text("sender_id").notNull(),
		clientId: text("client_id").notNull(),
		text: text("text"),
		/** JSON of the message's attachments, as on the wire. */
		attachments: text("attachments").notNull().default("[]"),
		replyTo: integer("reply_to"),
		createdAt: integer("created_at").notNull(),
		editedAt: integer("edited_at"),
		deletedAt: integer("deleted_at"),
	},
	(t) => [
		// The mirror's idempotency key: a replayed drain inserts nothing twice.
		uniqueIndex("mirrored_messages_seq").on(t.tenantId, t.conversationId, t.seq),
		index("mirrored_messages_created").on(t.tenantId, t.createdAt),
	],
);
