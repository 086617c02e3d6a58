/** The deployment operator's API: tenants, their domains, signing keys and settings. */
import type { Context } from "hono";
import { z } from "zod";
import { forgetTenant, requirePlatformAdmin } from "../auth/middleware";
import type { AppEnv } from "../context";
import { idempotencyOf } from "../db/idempotency";
import {
	addDomain,
	addSigningKey,
	createTenant,
	requireTenant,
	revokeSigningKey,
	type Tenant as TenantRow,
	updateTenantSettings,
} from "../db/tenants";
import {
	AddDomainBody,
	CreatedTenant,
	CreateTenantBody,
	DomainResponse,
	IDEMPOTENT_REPLAYED,
	Id,
	IdempotencyHeaders,
	SigningKeyResponse,
	type Tenant,
	TenantResponse,
	UpdateTenantBody,
} from "../protocol";
import { defineRoute, json, jsonBody, replayed, routeGroup, SECURITY } from "./openapi";

const TenantParam = z.object({ id: Id });

/** The tenant as the API answers it: times as ISO 8601, like every other answer. */
function tenantView(tenant: TenantRow): Tenant {
	return { ...tenant, createdAt: new Date(tenant.createdAt).toISOString() };
}
const common = { tags: ["Platform"], security: SECURITY.platform };

const REPLAYED = "A retry with the Idempotency-Key of an earlier creation: its answer, again";

const createTenantRoute = defineRoute({
	...common,
	method: "post",
	path: "/tenants",
	summary: "Create a tenant",
	description:
		"The API key and the signing secret are shown once: only the API key's hash is stored. With an `Idempotency-Key`, a retry within a day answers the original (200).",
	request: { headers: IdempotencyHeaders, body: jsonBody(CreateTenantBody) },
	refusals: ["conflict"],
	responses: {
		201: json(CreatedTenant, "The tenant, its API key and its first signing key"),
		200: replayed(CreatedTenant, REPLAYED),
	},
});

const getTenantRoute = defineRoute({
	...common,
	method: "get",
	path: "/tenants/{id}",
	summary: "Get a tenant",
	request: { params: TenantParam },
	refusals: ["tenant_not_found"],
	responses: {
		200: json(TenantResponse, "The tenant and its settings"),
	},
});

const updateTenantRoute = defineRoute({
	...common,
	method: "patch",
	path: "/tenants/{id}",
	summary: "Change a tenant's settings",
	description: "The settings given replace those of the tenant; the others keep their values.",
	request: { params: TenantParam, body: jsonBody(UpdateTenantBody) },
	refusals: ["tenant_not_found"],
	responses: {
		200: json(TenantResponse, "The tenant with its new settings"),
	},
});

const addDomainRoute = defineRoute({
	...common,
	method: "post",
	path: "/tenants/{id}/domains",
	summary: "Bind a hostname to a tenant",
	description:
		"The tenant's users and backend then reach the API on that host. In production the hostname also needs a Cloudflare custom hostname (README, Deploy).",
	request: { params: TenantParam, body: jsonBody(AddDomainBody) },
	refusals: ["tenant_not_found", "domain_taken"],
	responses: {
		201: json(DomainResponse, "The hostname is the tenant's"),
	},
});

const addSigningKeyRoute = defineRoute({
	...common,
	method: "post",
	path: "/tenants/{id}/signing-keys",
	summary: "Rotate the signing key",
	description:
		"The new key signs from now on; the old keys keep verifying until they are revoked. With an `Idempotency-Key`, a retry within a day answers the original (200).",
	request: { params: TenantParam, headers: IdempotencyHeaders },
	refusals: ["tenant_not_found", "conflict"],
	responses: {
		201: json(SigningKeyResponse, "The new key's id (`kid`) and secret, shown once"),
		200: replayed(SigningKeyResponse, REPLAYED),
	},
});

const revokeSigningKeyRoute = defineRoute({
	...common,
	method: "delete",
	path: "/tenants/{id}/signing-keys/{kid}",
	summary: "Revoke a signing key",
	description: "Tokens signed with it stop working.",
	request: { params: z.object({ id: Id, kid: Id }) },
	refusals: ["not_found"],
	responses: {
		204: { description: "Revoked" },
	},
});

/** The Idempotency-Key of a creation on this API, scoped to the operation (null without the header). */
function idempotency(c: Context<AppEnv>, scope: string, request: unknown) {
	const key = c.req.header("idempotency-key");
	return idempotencyOf(scope, key, request, c.env.PLATFORM_ADMIN_KEY);
}

export const platformRoutes = routeGroup(requirePlatformAdmin)
	.openapi(createTenantRoute, async (c) => {
		const body = c.req.valid("json");
		const { body: created, replayed } = await createTenant(
			c.env,
			body.name,
			await idempotency(c, "tenants", body),
		);
		if (replayed) {
			c.header(IDEMPOTENT_REPLAYED, "true");
			return c.json(created, 200);
		}
		return c.json(created, 201);
	})
	.openapi(getTenantRoute, async (c) =>
		c.json({ tenant: tenantView(await requireTenant(c.env, c.req.valid("param").id)) }, 200),
	)
	.openapi(updateTenantRoute, async (c) => {
		const { id } = c.req.valid("param");
		const tenant = await updateTenantSettings(c.env, id, c.req.valid("json").settings);
		forgetTenant(id);
		return c.json({ tenant: tenantView(tenant) }, 200);
	})
	.openapi(addDomainRoute, async (c) => {
		const { id } = c.req.valid("param");
		const { hostname } = c.req.valid("json");
		await addDomain(c.env, id, hostname);
		forgetTenant(id);
		return c.json({ domain: { hostname, tenantId: id } }, 201);
	})
	.openapi(addSigningKeyRoute, async (c) => {
		const { id } = c.req.valid("param");
		const { body: key, replayed } = await addSigningKey(
			c.env,
			id,
			await idempotency(c, `signing-keys:${id}`, {}),
		);
		forgetTenant(id);
		const answer = { signingKeyId: key.kid, signingSecret: key.secret };
		if (replayed) {
			c.header(IDEMPOTENT_REPLAYED, "true");
			return c.json(answer, 200);
		}
		return c.json(answer, 201);
	})
	.openapi(revokeSigningKeyRoute, async (c) => {
		const { id, kid } = c.req.valid("param");
		await revokeSigningKey(c.env, id, kid);
		forgetTenant(id);
		return c.body(null, 204);
	});
