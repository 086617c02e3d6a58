/** Queries on the tenant directory in D1. Routes call these; they never write SQL themselves. */
import { and, desc, eq, isNull } from "drizzle-orm";
import { drizzle } from "drizzle-orm/d1";
import { nanoid } from "nanoid";
import { randomSecret, sha256Hex } from "../auth/crypto";
import { AppError } from "../errors";
import { type CreatedTenant, DEFAULT_TENANT_SETTINGS, TenantSettings } from "../protocol";
import { createOnce, type Idempotency } from "./idempotency";
import * as schema from "./schema";

export interface Tenant {
	id: string;
	name: string;
	settings: TenantSettings;
	createdAt: number;
}

export interface SigningKey {
	kid: string;
	secret: string;
	createdAt: number;
}

function db(env: Env) {
	return drizzle(env.DB, { schema });
}

function parseSettings(json: string): TenantSettings {
	let stored: unknown;
	try {
		stored = JSON.parse(json);
	} catch {
		stored = {};
	}
	const parsed = TenantSettings.partial().safeParse(stored);
	return { ...DEFAULT_TENANT_SETTINGS, ...(parsed.success ? parsed.data : {}) };
}

function toTenant(row: typeof schema.tenants.$inferSelect): Tenant {
	return { id: row.id, name: row.name, settings: parseSettings(row.settings), createdAt: row.createdAt };
}

export function newApiKey(): string {
	return `ek_${randomSecret(24)}`;
}

/**
 * Creates a tenant with one API key and one signing key; the secrets are returned once, here (and to
 * a retry with the same Idempotency-Key, which gets this same answer back: `replayed`).
 */
export function createTenant(
	env: Env,
	name: string,
	idempotency: Idempotency | null = null,
	id = `t_${nanoid(16)}`,
): Promise<{ body: CreatedTenant; replayed: boolean }> {
	const d = db(env);
	return createOnce(d, idempotency, async () => {
		const now = Date.now();
		const apiKey = newApiKey();
		const signingKey = { kid: `k_${nanoid(12)}`, secret: randomSecret(32) };
		return {
			body: { tenant: { id, name }, apiKey, signingKeyId: signingKey.kid, signingSecret: signingKey.secret },
			statements: [
				d.insert(schema.tenants).values({ id, name, createdAt: now }),
				d.insert(schema.apiKeys).values({
					id: `ak_${nanoid(12)}`,
					tenantId: id,
					keyHash: await sha256Hex(apiKey),
					createdAt: now,
				}),
				d.insert(schema.signingKeys).values({ ...signingKey, tenantId: id, createdAt: now }),
			],
		};
	});
}

export async function getTenant(env: Env, id: string): Promise<Tenant | null> {
	const row = await db(env).select().from(schema.tenants).where(eq(schema.tenants.id, id)).get();
	return row ? toTenant(row) : null;
}

export async function requireTenant(env: Env, id: string): Promise<Tenant> {
	const tenant = await getTenant(env, id);
	if (!tenant) throw new AppError("tenant_not_found", `No tenant ${id}`);
	return tenant;
}

export async function updateTenantSettings(
	env: Env,
	id: string,
	patch: Partial<TenantSettings>,
): Promise<Tenant> {
	const tenant = await requireTenant(env, id);
	const settings = { ...tenant.settings, ...patch };
	await db(env)
		.update(schema.tenants)
		.set({ settings: JSON.stringify(settings) })
		.where(eq(schema.tenants.id, id));
	return { ...tenant, settings };
}

export async function findTenantByHost(env: Env, hostname: string): Promise<Tenant | null> {
	const row = await db(env)
		.select({ tenant: schema.tenants })
		.from(schema.tenantDomains)
		.innerJoin(schema.tenants, eq(schema.tenants.id, schema.tenantDomains.tenantId))
		.where(eq(schema.tenantDomains.hostname, hostname))
		.get();
	return row ? toTenant(row.tenant) : null;
}

export async function addDomain(env: Env, tenantId: string, hostname: string): Promise<void> {
	await requireTenant(env, tenantId);
	const inserted = await db(env)
		.insert(schema.tenantDomains)
		.values({ hostname, tenantId, createdAt: Date.now() })
		.onConflictDoNothing()
		.returning()
		.get();
	if (!inserted) {
		const owner = await db(env)
			.select()
			.from(schema.tenantDomains)
			.where(eq(schema.tenantDomains.hostname, hostname))
			.get();
		if (owner?.tenantId !== tenantId)
			throw new AppError("domain_taken", `${hostname} is bound to another tenant`);
	}
}

/** The tenant that owns an API key, or null when the key is unknown or revoked. */
export async function findTenantIdByApiKey(env: Env, apiKey: string): Promise<string | null> {
	const row = await db(env)
		.select({ tenantId: schema.apiKeys.tenantId })
		.from(schema.apiKeys)
		.where(and(eq(schema.apiKeys.keyHash, await sha256Hex(apiKey)), isNull(schema.apiKeys.revokedAt)))
		.get();
	return row?.tenantId ?? null;
}

/** Active signing keys, newest first: the first one signs, all of them verify. */
export async function listSigningKeys(env: Env, tenantId: string): Promise<SigningKey[]> {
	return db(env)
		.select({
			kid: schema.signingKeys.kid,
			secret: schema.signingKeys.secret,
			createdAt: schema.signingKeys.createdAt,
		})
		.from(schema.signingKeys)
		.where(and(eq(schema.signingKeys.tenantId, tenantId), isNull(schema.signingKeys.revokedAt)))
		.orderBy(desc(schema.signingKeys.createdAt), desc(schema.signingKeys.kid))
		.all();
}

/** A new signing key of the tenant; once per Idempotency-Key (a retry gets the same key: `replayed`). */
export function addSigningKey(
	env: Env,
	tenantId: string,
	idempotency: Idempotency | null = null,
): Promise<{ body: SigningKey; replayed: boolean }> {
	const d = db(env);
	return createOnce(d, idempotency, async () => {
		await requireTenant(env, tenantId);
		const key = { kid: `k_${nanoid(12)}`, secret: randomSecret(32), createdAt: Date.now() };
		return { body: key, statements: [d.insert(schema.signingKeys).values({ ...key, tenantId })] };
	});
}

export async function revokeSigningKey(env: Env, tenantId: string, kid: string): Promise<void> {
	const revoked = await db(env)
		.update(schema.signingKeys)
		.set({ revokedAt: Date.now() })
		.where(
			and(
				eq(schema.signingKeys.tenantId, tenantId),
				eq(schema.signingKeys.kid, kid),
				isNull(schema.signingKeys.revokedAt),
			),
		)
		.returning()
		.get();
	if (!revoked) throw new AppError("not_found", `No active signing key ${kid}`);
}
