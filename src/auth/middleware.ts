/** Who is calling: the tenant (from Host), then a user (JWT), a tenant backend (API key) or the operator. */
import { createMiddleware } from "hono/factory";
import type { AppEnv } from "../context";
import {
	findTenantByHost,
	findTenantIdByApiKey,
	listSigningKeys,
	type SigningKey,
	type Tenant,
} from "../db/tenants";
import { AppError } from "../errors";
import { TtlCache } from "./cache";
import { safeEqual } from "./crypto";
import { CLOCK_SKEW_SECONDS, verifyJwt } from "./jwt";

const TTL_MS = 30_000;
/** An unknown host is remembered for less time, so a domain just added works within seconds. */
const MISS_TTL_MS = 5_000;
export const tenantsByHost = new TtlCache<Tenant | null>(TTL_MS);
export const signingKeysByTenant = new TtlCache<SigningKey[]>(TTL_MS);
const tenantIdsByApiKey = new TtlCache<string | null>(TTL_MS);

export function forgetTenant(tenantId: string): void {
	tenantsByHost.clear();
	signingKeysByTenant.delete(tenantId);
}

/** The host without its port, lowercased. */
export function hostnameOf(host: string): string {
	const lower = host.trim().toLowerCase();
	if (lower.startsWith("[")) return lower.slice(0, lower.indexOf("]") + 1);
	return lower.replace(/:\d+$/, "");
}

export const resolveTenant = createMiddleware<AppEnv>(async (c, next) => {
	const hostname = hostnameOf(c.req.header("host") ?? new URL(c.req.url).host);
	const tenant = await tenantsByHost.get(
		hostname,
		() => findTenantByHost(c.env, hostname),
		(found) => (found ? TTL_MS : MISS_TTL_MS),
	);
	if (!tenant) throw new AppError("tenant_not_found", `No tenant is bound to ${hostname}`);
	c.set("tenant", tenant);
	await next();
});

function bearer(header: string | undefined): string | null {
	const match = header?.match(/^Bearer\s+(\S+)\s*$/i);
	return match?.[1] ?? null;
}

/** A user of the resolved tenant. WebSocket upgrades may pass `?token=`, since browsers cannot set headers. */
export const requireUser = createMiddleware<AppEnv>(async (c, next) => {
	const isUpgrade = c.req.header("upgrade")?.toLowerCase() === "websocket";
	const token = bearer(c.req.header("authorization")) ?? (isUpgrade ? (c.req.query("token") ?? null) : null);
	if (!token) throw new AppError("unauthorized", "Missing bearer token");
	const tenant = c.get("tenant");
	const keys = await signingKeysByTenant.get(tenant.id, () => listSigningKeys(c.env, tenant.id));
	const claims = await verifyJwt(token, keys);
	c.set("userId", claims.sub);
	c.set("tokenExpiresAt", (claims.exp + CLOCK_SKEW_SECONDS) * 1000);
	c.set("tokenKeyId", claims.kid);
	await next();
});

/** The backend of the resolved tenant, by one of its API keys. */
export const requireApiKey = createMiddleware<AppEnv>(async (c, next) => {
	const key = bearer(c.req.header("authorization"));
	if (!key) throw new AppError("unauthorized", "Missing API key");
	const tenantId = await tenantIdsByApiKey.get(key, () => findTenantIdByApiKey(c.env, key));
	if (tenantId !== c.get("tenant").id) throw new AppError("unauthorized", "Invalid API key");
	await next();
});

/** The operator of the deployment, by the PLATFORM_ADMIN_KEY secret. */
export const requirePlatformAdmin = createMiddleware<AppEnv>(async (c, next) => {
	const key = bearer(c.req.header("authorization"));
	const expected = c.env.PLATFORM_ADMIN_KEY;
	if (!key || !expected || !safeEqual(key, expected))
		throw new AppError("unauthorized", "Invalid platform admin key");
	await next();
});
