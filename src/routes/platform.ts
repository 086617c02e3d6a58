/** The deployment operator's API: tenants, their domains, signing keys and settings. */
import { z } from "zod";
import { forgetTenant, requirePlatformAdmin } from "../auth/middleware";
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
	Id,
	SigningKeyResponse,
	type Tenant,
	TenantResponse,
	UpdateTenantBody,
} from "../protocol";
import { defineRoute, json, jsonBody, routeGroup, SECURITY } from "./openapi";

const TenantParam = z.object({ id: Id });

/** The tenant as the API answers it: times as ISO 8601, like every other answer. */
function tenantView(tenant: TenantRow): Tenant {
	return { ...tenant, createdAt: new Date(tenant.createdAt).toISOString() };
}
const common = { tags: ["Platform"], security: SECURITY.platform };

const createTenantRoute = defineRoute({
	...common,
	method: "post",
	path: "/tenants",
	summary: "Create a tenant",
	description: "The API key and the signing secret are shown once: only the API key's hash is stored.",
	request: { body: jsonBody(CreateTenantBody) },
	responses: {
		201: json(CreatedTenant, "The tenant, its API key and its first signing key"),
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
	description: "The new key signs from now on; the old keys keep verifying until they are revoked.",
	request: { params: TenantParam },
	refusals: ["tenant_not_found"],
	responses: {
		201: json(SigningKeyResponse, "The new key's id (`kid`) and secret, shown once"),
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

export const platformRoutes = routeGroup(requirePlatformAdmin)
	.openapi(createTenantRoute, async (c) => c.json(await createTenant(c.env, c.req.valid("json").name), 201))
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
		const key = await addSigningKey(c.env, id);
		forgetTenant(id);
		return c.json({ signingKeyId: key.kid, signingSecret: key.secret }, 201);
	})
	.openapi(revokeSigningKeyRoute, async (c) => {
		const { id, kid } = c.req.valid("param");
		await revokeSigningKey(c.env, id, kid);
		forgetTenant(id);
		return c.body(null, 204);
	});
