/**
 * HS256 JSON Web Tokens for a tenant's users. Claims: `sub` (user id), `iat`, `exp`, optional `name`;
 * header `kid` names the tenant's signing key, so a tenant can rotate keys. A tenant's backend may
 * mint these itself with its signing secret.
 */
import { AppError } from "../errors";
import { Str, UserId } from "../protocol";
import { base64UrlDecode, base64UrlEncode } from "./crypto";

const encoder = new TextEncoder();
const decoder = new TextDecoder();
/** Tolerated clock difference between the tenant's servers and ours. */
export const CLOCK_SKEW_SECONDS = 60;

export interface UserClaims {
	sub: string;
	iat: number;
	exp: number;
	name?: string;
}

/** Imported keys, per isolate: importing costs more than the HMAC itself, on every request. */
const importedKeys = new Map<string, Promise<CryptoKey>>();

function hmacKey(secret: string): Promise<CryptoKey> {
	let key = importedKeys.get(secret);
	if (!key) {
		if (importedKeys.size >= 1000) importedKeys.clear();
		key = crypto.subtle.importKey("raw", encoder.encode(secret), { name: "HMAC", hash: "SHA-256" }, false, [
			"sign",
			"verify",
		]);
		importedKeys.set(secret, key);
		// A failed import must not stay cached; the caller awaits `key` and sees the failure itself.
		void key.catch(() => importedKeys.delete(secret));
	}
	return key;
}

function encodeJson(value: unknown): string {
	return base64UrlEncode(encoder.encode(JSON.stringify(value)));
}

export async function signJwt(claims: UserClaims, key: { kid: string; secret: string }): Promise<string> {
	const signingInput = `${encodeJson({ alg: "HS256", typ: "JWT", kid: key.kid })}.${encodeJson(claims)}`;
	const signature = await crypto.subtle.sign("HMAC", await hmacKey(key.secret), encoder.encode(signingInput));
	return `${signingInput}.${base64UrlEncode(new Uint8Array(signature))}`;
}

function decodeJson(part: string): Record<string, unknown> | null {
	const bytes = base64UrlDecode(part);
	if (!bytes) return null;
	try {
		const value: unknown = JSON.parse(decoder.decode(bytes));
		return typeof value === "object" && value !== null && !Array.isArray(value)
			? (value as Record<string, unknown>)
			: null;
	} catch {
		return null;
	}
}

const unauthorized = (message: string) => new AppError("unauthorized", message);

/**
 * Verifies a token against the tenant's active signing keys. A token without `kid` is tried against
 * each of them. Every failure is the same 401 to the caller, with a reason in the message.
 */
export async function verifyJwt(
	token: string,
	keys: readonly { kid: string; secret: string }[],
	nowSeconds = Math.floor(Date.now() / 1000),
): Promise<UserClaims & { kid: string }> {
	const parts = token.split(".");
	if (parts.length !== 3) throw unauthorized("Malformed token");
	const [headerPart = "", payloadPart = "", signaturePart = ""] = parts;
	const header = decodeJson(headerPart);
	const payload = decodeJson(payloadPart);
	const signature = base64UrlDecode(signaturePart);
	if (!header || !payload || !signature) throw unauthorized("Malformed token");
	if (header.alg !== "HS256") throw unauthorized("Unsupported token algorithm; use HS256");

	const candidates = typeof header.kid === "string" ? keys.filter((k) => k.kid === header.kid) : keys;
	if (candidates.length === 0) throw unauthorized("Unknown signing key");
	const data = encoder.encode(`${headerPart}.${payloadPart}`);
	// The key that verified it: the socket opened with this token ends when that key is revoked.
	let verifiedBy: string | null = null;
	for (const key of candidates) {
		if (await crypto.subtle.verify("HMAC", await hmacKey(key.secret), signature, data)) {
			verifiedBy = key.kid;
			break;
		}
	}
	if (verifiedBy === null) throw unauthorized("Invalid token signature");

	const { sub, iat, exp, name } = payload;
	if (typeof sub !== "string" || !UserId.safeParse(sub).success)
		throw unauthorized("Token has no valid sub claim");
	// Any text claim is held to the protocol's strings: well-formed Unicode.
	if (typeof name === "string" && !Str.safeParse(name).success)
		throw unauthorized("Token has an invalid name claim");
	if (typeof exp !== "number" || !Number.isFinite(exp)) throw unauthorized("Token has no exp claim");
	if (exp + CLOCK_SKEW_SECONDS <= nowSeconds) throw unauthorized("Token expired");
	if (typeof iat === "number" && iat - CLOCK_SKEW_SECONDS > nowSeconds)
		throw unauthorized("Token issued in the future");
	return {
		sub,
		exp,
		iat: typeof iat === "number" ? iat : nowSeconds,
		...(typeof name === "string" ? { name } : {}),
		kid: verifiedBy,
	};
}
