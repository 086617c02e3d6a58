const encoder = new TextEncoder();

export async function sha256Hex(value: string): Promise<string> {
	const digest = await crypto.subtle.digest("SHA-256", encoder.encode(value));
	return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

export function base64UrlEncode(bytes: Uint8Array): string {
	let binary = "";
	for (const byte of bytes) binary += String.fromCharCode(byte);
	return btoa(binary).replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");
}

export function base64UrlDecode(value: string): Uint8Array | null {
	if (!/^[A-Za-z0-9_-]*$/.test(value)) return null;
	const base64 = value.replaceAll("-", "+").replaceAll("_", "/");
	try {
		const binary = atob(base64 + "=".repeat((4 - (base64.length % 4)) % 4));
		return Uint8Array.from(binary, (c) => c.charCodeAt(0));
	} catch {
		return null;
	}
}

export function randomSecret(bytes = 32): string {
	return base64UrlEncode(crypto.getRandomValues(new Uint8Array(bytes)));
}

/** Compares two strings in time that depends only on their lengths. */
export function safeEqual(a: string, b: string): boolean {
	const left = encoder.encode(a);
	const right = encoder.encode(b);
	if (left.byteLength !== right.byteLength) return false;
	return crypto.subtle.timingSafeEqual(left, right);
}

/** An AES-GCM key derived from `secret` for one purpose (HKDF-SHA-256, `purpose` as its info). */
function sealingKey(secret: string, purpose: string): Promise<CryptoKey> {
	return crypto.subtle
		.importKey("raw", encoder.encode(secret), "HKDF", false, ["deriveKey"])
		.then((base) =>
			crypto.subtle.deriveKey(
				{ name: "HKDF", hash: "SHA-256", salt: new Uint8Array(0), info: encoder.encode(purpose) },
				base,
				{ name: "AES-GCM", length: 256 },
				false,
				["encrypt", "decrypt"],
			),
		);
}

/** `plaintext` encrypted and authenticated with a key derived from `secret`: `iv.ciphertext`, base64url. */
export async function seal(secret: string, purpose: string, plaintext: string): Promise<string> {
	const iv = crypto.getRandomValues(new Uint8Array(12));
	const key = await sealingKey(secret, purpose);
	const sealed = await crypto.subtle.encrypt({ name: "AES-GCM", iv }, key, encoder.encode(plaintext));
	return `${base64UrlEncode(iv)}.${base64UrlEncode(new Uint8Array(sealed))}`;
}

/** What `seal` sealed, or null when it was sealed with another secret (or tampered with). */
export async function unseal(secret: string, purpose: string, sealed: string): Promise<string | null> {
	const [ivPart = "", dataPart = ""] = sealed.split(".");
	const iv = base64UrlDecode(ivPart);
	const data = base64UrlDecode(dataPart);
	if (!iv || !data || iv.byteLength !== 12) return null;
	try {
		const key = await sealingKey(secret, purpose);
		const plain = await crypto.subtle.decrypt({ name: "AES-GCM", iv }, key, data);
		return new TextDecoder().decode(plain);
	} catch {
		return null;
	}
}
