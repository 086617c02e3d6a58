/**
 * A small per-isolate cache with a TTL. Isolates are short-lived and many, so a change (a new domain,
 * a revoked key, new settings) reaches every isolate within the TTL; the isolate that made the
 * change drops its entry at once.
 */
/** How long a stale value is served before the source is tried again, while the source fails. */
const STALE_RETRY_MS = 5_000;

export class TtlCache<V> {
	readonly #entries = new Map<string, { value: V; expires: number }>();

	constructor(
		private readonly ttlMs: number,
		private readonly maxEntries = 10_000,
	) {}

	/**
	 * The cached value, or `load()`'s, kept for `ttlFor(value)` ms (the cache's TTL by default). When
	 * `load()` fails (D1 unreachable), an expired value is served again for a while rather than the
	 * error: chat keeps working through a D1 outage for everyone this isolate has seen.
	 */
	async get(key: string, load: () => Promise<V>, ttlFor?: (value: V) => number): Promise<V> {
		const now = Date.now();
		const hit = this.#entries.get(key);
		if (hit && hit.expires > now) return hit.value;
		let value: V;
		try {
			value = await load();
		} catch (error) {
			if (!hit) throw error;
			hit.expires = now + STALE_RETRY_MS;
			return hit.value;
		}
		if (this.#entries.size >= this.maxEntries) this.#entries.clear();
		this.#entries.set(key, { value, expires: now + (ttlFor ? ttlFor(value) : this.ttlMs) });
		return value;
	}

	delete(key: string): void {
		this.#entries.delete(key);
	}

	clear(): void {
		this.#entries.clear();
	}
}
