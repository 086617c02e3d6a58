/** The deployment operator's API: tenants, their domains, signing keys and settings. */
import { Hono } from "hono";
import { z } from "zod";
import { forgetTenant, requirePlatformAdmin } from "../auth/middleware";
import type { AppEnv } from "../context";
import {
	addDomain,
	addSigningKey,
	createTenant,
	requireTenant,
	revokeSigningKey,
	updateTenantSettings,
} from "../db/tenants";
import { AddDomainBody, CreateTenantBody, Id, UpdateTenantBody } from "../protocol";
import { validate } from "../validate";

const TenantParam = z.object({ id: Id });

export const platformRoutes = new Hono<AppEnv>()
	.use(requirePlatformAdmin)
	.post("/tenants", validate("json", CreateTenantBody), async (c) => {
		return c.json(await createTenant(c.env, c.req.valid("json").name), 201);
	})
	.get("/tenants/:id", validate("param", TenantParam), async (c) => {
		return c.json({ tenant: await requireTenant(c.env, c.req.valid("param").id) });
	})
	.patch("/tenants/:id", validate("param", TenantParam), validate("json", UpdateTenantBody), async (c) => {
		const { id } = c.req.valid("param");
		const tenant = await updateTenantSettings(c.env, id, c.req.valid("json").settings);
		forgetTenant(id);
		return c.json({ tenant });
	})
	.post(
		"/tenants/:id/domains",
		validate("param", TenantParam),
		validate("json", AddDomainBody),
		async (c) => {
			const { id } = c.req.valid("param");
			const { hostname } = c.req.valid("json");
			await addDomain(c.env, id, hostname);
			forgetTenant(id);
			return c.json({ domain: { hostname, tenantId: id } }, 201);
		},
	)
	.post("/tenants/:id/signing-keys", validate("param", TenantParam), async (c) => {
		const { id } = c.req.valid("param");
		const key = await addSigningKey(c.env, id);
		forgetTenant(id);
		return c.json({ signingKeyId: key.kid, signingSecret: key.secret }, 201);
	})
	.delete("/tenants/:id/signing-keys/:kid", validate("param", z.object({ id: Id, kid: Id })), async (c) => {
		const { id, kid } = c.req.valid("param");
		await revokeSigningKey(c.env, id, kid);
		forgetTenant(id);
		return c.body(null, 204);
	});
