// What the fuzz run needs in place before it starts: two tenants of its own (one to fuzz, one as the
// "other tenant" and as the target of the platform routes), users, conversations, a message, a
// media object, valid credentials of every audience and forged ones.
import { createHmac } from "node:crypto";
import { createTenant, devVar, expectStatus, request } from "../../../e2e/lib/wire.mjs";

const b64 = (value) =>
	Buffer.from(typeof value === "string" ? value : JSON.stringify(value)).toString("base64url");

/** An HS256 JWT as a tenant would mint it, or a forged one (`alg`, header and claims as given). */
export function jwt(header, claims, secret) {
	const input = `${b64(header)}.${b64(claims)}`;
	const signature = createHmac("sha256", secret).update(input).digest("base64url");
	return `${input}.${signature}`;
}

/** A signed JWT from header and claims given as JSON text, for JSON that JSON.stringify would not write. */
function rawJwt(headerText, claimsText, secret) {
	const input = `${b64(headerText)}.${b64(claimsText)}`;
	return `${input}.${createHmac("sha256", secret).update(input).digest("base64url")}`;
}

export async function makeFixture(base) {
	const adminKey = devVar("PLATFORM_ADMIN_KEY", "dev_admin_key");
	// Media capped at 1 MiB for this tenant, so that oversize uploads are cheap to send.
	const a = await createTenant(base, {
		name: "fuzz",
		adminKey,
		settings: { sendRate: { perSecond: 100_000, burst: 100_000 }, mediaMaxBytes: 1024 * 1024 },
	});
	const b = await createTenant(base, { name: "fuzz victim", adminKey });
	const users = {
		owner: "fuzz-owner",
		member: "fuzz-member",
		outsider: "fuzz-outsider",
		bystander: "fuzz-bystander",
	};
	const tokens = {};
	for (const [role, userId] of Object.entries(users)) tokens[role] = await a.token(userId);
	tokens.otherTenant = await b.token(users.owner);
	const now = Math.floor(Date.now() / 1000);
	const header = { alg: "HS256", typ: "JWT", kid: a.signingKeyId };
	const claims = { sub: users.owner, iat: now, exp: now + 3600 };
	const secret = a.signingSecret;
	// Forged and broken tokens: every one of them must answer 401.
	tokens.forged = {
		"alg none": `${b64({ alg: "none", typ: "JWT", kid: a.signingKeyId })}.${b64(claims)}.`,
		"alg HS512 label": jwt({ ...header, alg: "HS512" }, claims, secret),
		"alg RS256 label": jwt({ ...header, alg: "RS256" }, claims, secret),
		"wrong secret": jwt(header, claims, "not the secret"),
		"other tenant's secret, this kid": jwt(header, claims, b.signingSecret),
		"other tenant's kid": jwt({ ...header, kid: b.signingKeyId }, claims, b.signingSecret),
		"unknown kid": jwt({ ...header, kid: "k_unknown" }, claims, secret),
		"expired 2 min ago": jwt(header, { ...claims, iat: now - 7200, exp: now - 120 }, secret),
		"no exp": jwt(header, { sub: users.owner, iat: now }, secret),
		"exp is a string": jwt(header, { ...claims, exp: String(now + 3600) }, secret),
		"exp is 1e400": rawJwt(
			JSON.stringify(header),
			`{"sub":"${users.owner}","iat":${now},"exp":1e400}`,
			secret,
		),
		"no sub": jwt(header, { iat: now, exp: now + 3600 }, secret),
		"empty sub": jwt(header, { ...claims, sub: "" }, secret),
		"sub 129 chars": jwt(header, { ...claims, sub: "s".repeat(129) }, secret),
		"sub with a space": jwt(header, { ...claims, sub: "a b" }, secret),
		"sub is a number": jwt(header, { ...claims, sub: 42 }, secret),
		"sub lone surrogate": rawJwt(
			JSON.stringify(header),
			`{"sub":"u\\ud800","iat":${now},"exp":${now + 3600}}`,
			secret,
		),
		"claims are an array": jwt(header, [claims], secret),
		"header not JSON": `${b64("not json")}.${b64(claims)}.${"x".repeat(43)}`,
		"padded base64": `${Buffer.from(JSON.stringify(header)).toString("base64")}.${Buffer.from(JSON.stringify(claims)).toString("base64")}.x==`,
		"signature stripped": `${b64(header)}.${b64(claims)}`,
		"tenant API key as token": a.apiKey,
		"platform admin key as token": adminKey,
		"other tenant's user token": tokens.otherTenant,
	};
	const as = (role) => ({ authorization: `Bearer ${tokens[role]}` });
	const create = async (memberIds, title) =>
		(
			await expectStatus(
				request(base, {
					method: "POST",
					path: "/v1/conversations",
					host: a.host,
					headers: as("owner"),
					body: { type: "group", title, memberIds },
				}),
				201,
				"create group",
			)
		).conversation.id;
	const group = await create([users.member], "fuzz");
	const membership = await create([users.member, users.bystander], "fuzz membership");
	const collect = await create([users.member], "fuzz collect");
	const direct = (
		await expectStatus(
			request(base, {
				method: "POST",
				path: "/v1/conversations",
				host: a.host,
				headers: as("owner"),
				body: { type: "direct", memberIds: [users.member] },
			}),
			201,
			"create direct",
		)
	).conversation.id;
	await expectStatus(
		request(base, {
			method: "POST",
			path: `/v1/conversations/${group}/messages`,
			host: a.host,
			headers: as("owner"),
			body: { clientId: "fuzz-first", text: "the first message, hello fuzz" },
		}),
		201,
		"first message",
	);
	const media = (
		await expectStatus(
			request(base, {
				method: "POST",
				path: `/v1/media?conversationId=${group}`,
				host: a.host,
				headers: { ...as("owner"), "content-type": "text/plain" },
				body: Buffer.from("hello from the fuzz run\n".repeat(40)),
			}),
			201,
			"media upload",
		)
	).media;
	// Tokens that are arguably fine (the server tries every active key when there is no string kid):
	// reported as findings when accepted, not as violations.
	tokens.lenient = {
		"no kid": jwt({ alg: "HS256", typ: "JWT" }, claims, secret),
		"kid is a number": jwt({ ...header, kid: 7 }, claims, secret),
		"kid is an array": jwt({ ...header, kid: [a.signingKeyId] }, claims, secret),
	};
	return {
		base,
		adminKey,
		a,
		b,
		users,
		tokens,
		as,
		conversations: { group, membership, collect, direct },
		media,
	};
}
