// A fresh tenant for a benchmark, on its own `<prefix>-<random>.localhost` host, with the send and
// typing rate limits lifted so that they do not cap the run, and user tokens minted locally with the
// tenant's signing secret (HS256, as a tenant's backend may do: docs/api.md), which saves one HTTP
// request per user when a run needs thousands of them.
import { createHmac, randomBytes } from "node:crypto";
import { adminKey } from "./dev-api.mjs";

const b64url = (value) => Buffer.from(JSON.stringify(value)).toString("base64url");

export function mintToken({ kid, secret }, userId, ttlSeconds = 3 * 3600) {
	const now = Math.floor(Date.now() / 1000);
	const input = `${b64url({ alg: "HS256", typ: "JWT", kid })}.${b64url({ sub: userId, iat: now, exp: now + ttlSeconds })}`;
	return `${input}.${createHmac("sha256", secret).update(input).digest("base64url")}`;
}

/** `request` is a devApi request function; `base` the dev server's URL. */
export async function createBenchTenant(request, base, prefix = "bench") {
	const admin = adminKey();
	const suffix = randomBytes(4).toString("hex");
	const created = await request("POST", "/platform/v1/tenants", {
		auth: admin,
		body: { name: `${prefix} ${suffix}` },
	});
	const tenantId = created.tenant.id;
	const hostname = `${prefix}-${suffix}.localhost`;
	await request("POST", `/platform/v1/tenants/${tenantId}/domains`, { auth: admin, body: { hostname } });
	await request("PATCH", `/platform/v1/tenants/${tenantId}`, {
		auth: admin,
		body: {
			settings: {
				sendRate: { perSecond: 100_000, burst: 100_000 },
				typingRate: { perSecond: 10, burst: 10 },
			},
		},
	});
	const key = { kid: created.signingKeyId, secret: created.signingSecret };
	return {
		tenantId,
		hostname,
		host: base.port ? `${hostname}:${base.port}` : hostname,
		apiKey: created.apiKey,
		token: (userId, ttlSeconds) => mintToken(key, userId, ttlSeconds),
	};
}
