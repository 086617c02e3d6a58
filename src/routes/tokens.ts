/** A tenant's backend mints user tokens with its API key. */
import { signJwt } from "../auth/jwt";
import { requireApiKey, signingKeysByTenant } from "../auth/middleware";
import { listSigningKeys } from "../db/tenants";
import { AppError } from "../errors";
import { CreateTokenBody, TokenResponse } from "../protocol";
import { defineRoute, json, jsonBody, routeGroup, SECURITY } from "./openapi";

const DEFAULT_TTL_SECONDS = 24 * 3600;

const createTokenRoute = defineRoute({
	method: "post",
	path: "/",
	tags: ["Tenant backend"],
	security: SECURITY.tenant,
	summary: "Mint a user token",
	description:
		"A JWT for one of the tenant's users, signed with the tenant's current signing key. A tenant may also mint the same token itself with its signing secret.",
	middleware: requireApiKey,
	request: { body: jsonBody(CreateTokenBody) },
	refusals: ["unavailable"],
	responses: {
		201: json(TokenResponse, "The token and when it expires"),
	},
});

export const tokenRoutes = routeGroup().openapi(createTokenRoute, async (c) => {
	const { userId, name, ttlSeconds = DEFAULT_TTL_SECONDS } = c.req.valid("json");
	const tenant = c.get("tenant");
	const [key] = await signingKeysByTenant.get(tenant.id, () => listSigningKeys(c.env, tenant.id));
	if (!key) throw new AppError("unavailable", "The tenant has no active signing key");
	const iat = Math.floor(Date.now() / 1000);
	const exp = iat + ttlSeconds;
	const token = await signJwt({ sub: userId, iat, exp, ...(name ? { name } : {}) }, key);
	return c.json({ token, expiresAt: new Date(exp * 1000).toISOString() }, 201);
});
