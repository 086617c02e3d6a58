/** The D1 schema: the tenant directory. drizzle-kit generates migrations/d1 from this file. */
import { index, integer, sqliteTable, text } from "drizzle-orm/sqlite-core";

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
