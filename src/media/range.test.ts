import { describe, expect, it } from "vitest";
import { check, fc } from "../../test/property";
import { parseRange } from "./range";

const size = fc.integer({ min: 0, max: 10_000_000 });
/** Digits as a client may send them: small, around the size, or far beyond any number. */
const digits = fc.oneof(fc.nat(20_000_000).map(String), fc.stringMatching(/^[0-9]{1,40}$/), fc.constant(""));

describe("parseRange", () => {
	it("answers all, one range inside the object, or unsatisfiable, whatever the header", () => {
		check(
			fc.property(
				fc.oneof(
					fc.string(),
					fc.tuple(digits, digits).map(([a, b]) => `bytes=${a}-${b}`),
					fc.tuple(digits, digits).map(([a, b]) => ` Bytes = ${a} - ${b} `),
				),
				size,
				(header, bytes) => {
					const range = parseRange(header, bytes);
					if (range === null || range === "unsatisfiable") return;
					expect(Number.isSafeInteger(range.offset) && Number.isSafeInteger(range.length)).toBe(true);
					expect(range.offset).toBeGreaterThanOrEqual(0);
					expect(range.length).toBeGreaterThanOrEqual(1);
					expect(range.offset + range.length).toBeLessThanOrEqual(bytes);
				},
			),
			1000,
		);
	});

	it("serves bytes=first-last as RFC 9110 §14.1.2 says", () => {
		check(
			fc.property(
				fc.nat(2000),
				fc.option(fc.nat(2000), { nil: undefined }),
				fc.nat(1000),
				(first, last, bytes) => {
					const range = parseRange(`bytes=${first}-${last ?? ""}`, bytes);
					if (first >= bytes) expect(range).toBe("unsatisfiable");
					else if (last !== undefined && last < first) expect(range).toBeNull();
					else {
						const end = Math.min(last ?? bytes - 1, bytes - 1);
						expect(range).toEqual({ offset: first, length: end - first + 1 });
					}
				},
			),
			1000,
		);
	});

	it("serves a suffix bytes=-n as the last n bytes, and -0 as unsatisfiable", () => {
		check(
			fc.property(fc.nat(2000), fc.nat(1000), (n, bytes) => {
				const range = parseRange(`bytes=-${n}`, bytes);
				if (n === 0 || bytes === 0) expect(range).toBe("unsatisfiable");
				else expect(range).toEqual({ offset: bytes - Math.min(n, bytes), length: Math.min(n, bytes) });
			}),
			1000,
		);
	});
});
