/** The `Range` request header (RFC 9110 §14), for one range of bytes; several ranges get the whole object. */

export interface ByteRange {
	offset: number;
	length: number;
}

/**
 * What to send of an object of `size` bytes: null for all of it, a range, or "unsatisfiable" (416).
 * A header we do not understand (another unit, several ranges, bad syntax) is ignored, as the RFC allows.
 */
export function parseRange(header: string | undefined, size: number): ByteRange | null | "unsatisfiable" {
	if (!header) return null;
	const match = /^\s*bytes\s*=\s*(\d*)\s*-\s*(\d*)\s*$/i.exec(header);
	if (!match) return null;
	const [, first = "", last = ""] = match;
	if (first === "" && last === "") return null;
	if (first === "") {
		// A suffix: the last N bytes.
		const suffix = Number(last);
		if (suffix === 0 || size === 0) return "unsatisfiable";
		const length = Math.min(suffix, size);
		return { offset: size - length, length };
	}
	const start = Number(first);
	if (start >= size) return "unsatisfiable";
	const end = last === "" ? size - 1 : Math.min(Number(last), size - 1);
	if (end < start) return null;
	return { offset: start, length: end - start + 1 };
}
