import { describe, expect, it } from "vitest";
import { TtlCache } from "./cache";

describe("TtlCache", () => {
	it("loads once within the TTL, again after it, and keeps misses for their own shorter time", async () => {
		const cache = new TtlCache<string | null>(60_000);
		let loads = 0;
		const load = async () => {
			loads++;
			return null;
		};
		await cache.get("k", load, (v) => (v ? 60_000 : 0));
		await cache.get("k", load, (v) => (v ? 60_000 : 0));
		expect(loads).toBe(2); // a miss kept for 0 ms is looked up again
		await cache.get("h", async () => "hit");
		expect(await cache.get("h", async () => "other")).toBe("hit");
		cache.delete("h");
		expect(await cache.get("h", async () => "other")).toBe("other");
		await cache.get("m", load, () => 60_000);
		await cache.get("m", load, () => 60_000);
		expect(loads).toBe(3); // a miss kept for a minute is not
	});

	it("serves the last value while the source fails, and the error when it never had one", async () => {
		const cache = new TtlCache<string>(0); // every get goes to the source
		await cache.get("t", async () => "tenant");
		const down = async (): Promise<string> => {
			throw new Error("D1 unreachable");
		};
		expect(await cache.get("t", down)).toBe("tenant");
		await expect(cache.get("never-seen", down)).rejects.toThrow("D1 unreachable");
	});
});
