import { describe, expect, it } from "vitest";
import { checkAsync, fc } from "../../test/property";
import { AppError } from "../errors";
import { signJwt, verifyJwt } from "./jwt";

const key = { kid: "k_1", secret: "a-signing-secret" };
const now = 1_800_000_000;
const userId = fc.stringMatching(/^[A-Za-z0-9_.@+=-]{1,128}$/);

/** What verifyJwt threw: an AppError `unauthorized`, or the test fails with whatever else it was. */
async function refusal(token: string): Promise<AppError> {
	try {
		await verifyJwt(token, [key], now);
	} catch (error) {
		expect(error).toBeInstanceOf(AppError);
		expect((error as AppError).code).toBe("unauthorized");
		return error as AppError;
	}
	throw new Error(`accepted ${token}`);
}

describe("verifyJwt", () => {
	it("accepts what signJwt signed, claims unchanged, and names the key that verified it", async () => {
		await checkAsync(
			fc.asyncProperty(
				userId,
				fc.option(fc.string({ unit: "grapheme", maxLength: 50 }), { nil: undefined }),
				fc.integer({ min: 1, max: 10 ** 6 }),
				async (sub, name, ttl) => {
					const claims = { sub, iat: now, exp: now + ttl, ...(name === undefined ? {} : { name }) };
					expect(await verifyJwt(await signJwt(claims, key), [key], now)).toEqual({
						...claims,
						kid: key.kid,
					});
				},
			),
		);
	});

	it("refuses any other token with unauthorized, never another error", async () => {
		const valid = await signJwt({ sub: "alice", iat: now, exp: now + 60 }, key);
		await checkAsync(
			fc.asyncProperty(
				fc.oneof(
					fc.string(),
					fc.string({ unit: "binary" }),
					// The valid token with one character changed (the last one of a part may be a no-op
					// in base64url: then it is not another token, and is skipped).
					fc
						.tuple(fc.nat(valid.length - 1), fc.constantFrom(..."AbZz09-_.=+/ \u00e9\ud800"))
						.map(([at, c]) => `${valid.slice(0, at)}${c}${valid.slice(at + 1)}`),
					fc.array(fc.base64String(), { minLength: 3, maxLength: 3 }).map((parts) => parts.join(".")),
				),
				async (token) => {
					fc.pre(token !== valid);
					let accepted: unknown = null;
					try {
						accepted = await verifyJwt(token, [key], now);
					} catch (error) {
						expect(error).toBeInstanceOf(AppError);
						expect((error as AppError).code).toBe("unauthorized");
					}
					// A change that decodes to the same bytes is the same token after all.
					if (accepted) expect(accepted).toEqual({ sub: "alice", iat: now, exp: now + 60 });
				},
			),
			300,
		);
	});

	it("refuses a claim that is not well-formed Unicode: sub or name with a lone surrogate", async () => {
		for (const lone of ["\ud800", "a\udfff", "\ud83d"]) {
			await refusal(await signJwt({ sub: `u${lone}`, iat: now, exp: now + 60 }, key));
			const error = await refusal(await signJwt({ sub: "alice", iat: now, exp: now + 60, name: lone }, key));
			expect(error.message).toMatch(/name/);
		}
	});

	it("refuses expired tokens, and tokens from the future, past the clock skew", async () => {
		await checkAsync(
			fc.asyncProperty(fc.integer({ min: -10_000, max: 10_000 }), async (offset) => {
				const token = await signJwt({ sub: "alice", iat: now, exp: now + offset }, key);
				const ok = now + offset + 60 > now;
				if (ok) expect((await verifyJwt(token, [key], now)).sub).toBe("alice");
				else await refusal(token);
			}),
			100,
		);
	});
});
