import { describe, expect, it } from "vitest";
import { parseRange } from "./range";
import { allowedType, imageDimensions, matchesSignature } from "./sniff";

const bytes = (...parts: (number[] | string)[]) =>
	new Uint8Array(parts.flatMap((p) => (typeof p === "string" ? [...p].map((c) => c.charCodeAt(0)) : p)));
const le16 = (n: number) => [n & 0xff, n >> 8];
const be16 = (n: number) => [n >> 8, n & 0xff];

describe("the type allowlist", () => {
	it("normalises the header: case, parameters and aliases", () => {
		expect(allowedType("IMAGE/PNG")).toBe("image/png");
		expect(allowedType("text/plain; charset=utf-8")).toBe("text/plain");
		expect(allowedType("image/jpg")).toBe("image/jpeg");
		expect(allowedType("audio/x-wav")).toBe("audio/wav");
		expect(allowedType("text/html")).toBeNull();
		expect(allowedType("image/svg+xml")).toBeNull();
		expect(allowedType("")).toBeNull();
		expect(allowedType(undefined)).toBeNull();
	});

	it("tells apart formats that share a container", () => {
		const wav = bytes("RIFF", [0, 0, 0, 0], "WAVE");
		const webp = bytes("RIFF", [0, 0, 0, 0], "WEBP");
		expect(matchesSignature("audio/wav", wav)).toBe(true);
		expect(matchesSignature("image/webp", wav)).toBe(false);
		expect(matchesSignature("image/webp", webp)).toBe(true);
		expect(matchesSignature("audio/wav", webp)).toBe(false);
	});

	it("takes text only when it is UTF-8 without NUL, even cut in the middle of a character", () => {
		const euro = new TextEncoder().encode("price: 5€");
		expect(matchesSignature("text/plain", euro)).toBe(true);
		expect(matchesSignature("text/plain", euro.subarray(0, euro.length - 1))).toBe(true);
		expect(matchesSignature("text/plain", bytes("a", [0], "b"))).toBe(false);
		expect(matchesSignature("text/plain", bytes([0xc3, 0x28]))).toBe(false);
	});
});

describe("image dimensions", () => {
	it("reads a JPEG's start-of-frame after its other segments", () => {
		const jpeg = bytes(
			[0xff, 0xd8],
			[0xff, 0xe0, ...be16(16)],
			"JFIF",
			[0, 1, 1, 0, 0, 1, 0, 1, 0, 0],
			[0xff, 0xdb, ...be16(4), 0, 0],
			[0xff, 0xc0, ...be16(17), 8, ...be16(480), ...be16(640), 3],
		);
		expect(imageDimensions("image/jpeg", jpeg)).toEqual({ width: 640, height: 480 });
		// Scan data before any frame header: nothing to tell.
		expect(imageDimensions("image/jpeg", bytes([0xff, 0xd8, 0xff, 0xda, 0, 8, 0, 0, 0, 0, 0, 0]))).toBeNull();
	});

	it("reads the three kinds of WebP", () => {
		const riff = (chunk: string, body: number[]) =>
			bytes("RIFF", [0, 0, 0, 0], "WEBP", chunk, [0, 0, 0, 0], body);
		const vp8x = riff("VP8X", [0, 0, 0, 0, ...[799 & 0xff, 799 >> 8, 0], ...[599 & 0xff, 599 >> 8, 0]]);
		expect(imageDimensions("image/webp", vp8x)).toEqual({ width: 800, height: 600 });
		const bits = (320 - 1) | ((200 - 1) << 14);
		const vp8l = riff("VP8L", [
			0x2f,
			bits & 0xff,
			(bits >> 8) & 0xff,
			(bits >> 16) & 0xff,
			(bits >>> 24) & 0xff,
			0,
			0,
			0,
			0,
		]);
		expect(imageDimensions("image/webp", vp8l)).toEqual({ width: 320, height: 200 });
		const vp8 = riff("VP8 ", [0, 0, 0, 0x9d, 0x01, 0x2a, ...le16(1024), ...le16(768)]);
		expect(imageDimensions("image/webp", vp8)).toEqual({ width: 1024, height: 768 });
	});

	it("reads GIF and PNG, and nothing from a header cut short", () => {
		expect(imageDimensions("image/gif", bytes("GIF89a", le16(300), le16(100)))).toEqual({
			width: 300,
			height: 100,
		});
		expect(imageDimensions("image/gif", bytes("GIF89a", [1]))).toBeNull();
		expect(imageDimensions("image/png", bytes([0x89], "PNG"))).toBeNull();
		expect(imageDimensions("text/plain", bytes("hello"))).toBeNull();
	});
});

describe("Range", () => {
	it("answers a byte range, an open range, a suffix, or the whole object", () => {
		expect(parseRange("bytes=0-0", 10)).toEqual({ offset: 0, length: 1 });
		expect(parseRange("bytes=4-", 10)).toEqual({ offset: 4, length: 6 });
		expect(parseRange("bytes=-3", 10)).toEqual({ offset: 7, length: 3 });
		expect(parseRange("bytes=-30", 10)).toEqual({ offset: 0, length: 10 });
		expect(parseRange("bytes=8-100", 10)).toEqual({ offset: 8, length: 2 });
		expect(parseRange(undefined, 10)).toBeNull();
	});

	it("ignores what it does not serve, and refuses a start past the end", () => {
		expect(parseRange("bytes=0-1,4-5", 10)).toBeNull();
		expect(parseRange("items=0-1", 10)).toBeNull();
		expect(parseRange("bytes=5-2", 10)).toBeNull();
		expect(parseRange("bytes=10-", 10)).toBe("unsatisfiable");
		expect(parseRange("bytes=-0", 10)).toBe("unsatisfiable");
	});
});
