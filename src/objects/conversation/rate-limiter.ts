/**
 * Token buckets kept in memory. Hibernation or eviction resets them, which only ever happens after
 * the object has been idle for seconds, long enough for any bucket to have refilled anyway.
 */
import type { RateLimitSettings } from "../../protocol";

interface Bucket {
	tokens: number;
	updatedAt: number;
}

export class RateLimiter {
	readonly #buckets = new Map<string, Bucket>();

	/** Takes one token; answers 0 when allowed, else the seconds until a token is available. */
	take(key: string, limit: RateLimitSettings, now = Date.now()): number {
		const bucket = this.#buckets.get(key) ?? { tokens: limit.burst, updatedAt: now };
		bucket.tokens = Math.min(
			limit.burst,
			bucket.tokens + ((now - bucket.updatedAt) / 1000) * limit.perSecond,
		);
		bucket.updatedAt = now;
		this.#buckets.set(key, bucket);
		if (bucket.tokens >= 1) {
			bucket.tokens -= 1;
			return 0;
		}
		return Math.max(1, Math.ceil((1 - bucket.tokens) / limit.perSecond));
	}
}
