/** A tenant's backend mints user tokens with its API key. */
import { Hono } from "hono";
import { signJwt } from "../auth/jwt";
import { requireApiKey, signingKeysByTenant } from "../auth/middleware";
import type { AppEnv } from "../context";
import { listSigningKeys } from "../db/tenants";
import { AppError } from "../errors";
import { CreateTokenBody } from "../protocol";
import { validate } from "../validate";

const DEFAULT_TTL_SECONDS = 24 * 3600;

export const tokenRoutes = new Hono<AppEnv>().post(
	"/",
	requireApiKey,
	validate("json", CreateTokenBody),
	async (c) => {
		const { userId, name, ttlSeconds = DEFAULT_TTL_SECONDS } = c.req.valid("json");
		const tenant = c.get("tenant");
		const [key] = await signingKeysByTenant.get(tenant.id, () => listSigningKeys(c.env, tenant.id));
		if (!key) throw new AppError("unavailable", "The tenant has no active signing key");
		const iat = Math.floor(Date.now() / 1000);
		const exp = iat + ttlSeconds;
		const token = await signJwt({ sub: userId, iat, exp, ...(name ? { name } : {}) }, key);
		return c.json({ token, expiresAt: new Date(exp * 1000).toISOString() }, 201);
	},
);
