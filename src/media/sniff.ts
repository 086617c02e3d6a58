/**
 * The media type allowlist, checked twice: the declared `Content-Type` must be allowed, and the first
 * bytes of the body must look like that type (a renamed executable is refused even with an image
 * header). Image dimensions are read from the header where the format puts them early.
 */

/** Allowed types, each with the check of its first bytes. */
const SIGNATURES: Record<string, (head: Uint8Array) => boolean> = {
	"image/png": (b) => startsWith(b, [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
	"image/jpeg": (b) => startsWith(b, [0xff, 0xd8, 0xff]),
	"image/gif": (b) => ascii(b, 0, "GIF87a") || ascii(b, 0, "GIF89a"),
	"image/webp": (b) => ascii(b, 0, "RIFF") && ascii(b, 8, "WEBP"),
	"video/mp4": isoMedia,
	"video/quicktime": (b) => isoMedia(b) || ascii(b, 4, "moov") || ascii(b, 4, "mdat") || ascii(b, 4, "wide"),
	"video/webm": isEbml,
	"audio/mpeg": (b) =>
		ascii(b, 0, "ID3") || (b.length >= 2 && b[0] === 0xff && ((b[1] ?? 0) & 0xe0) === 0xe0),
	"audio/mp4": isoMedia,
	"audio/ogg": (b) => ascii(b, 0, "OggS"),
	"audio/wav": (b) => ascii(b, 0, "RIFF") && ascii(b, 8, "WAVE"),
	"audio/webm": isEbml,
	"application/pdf": (b) => ascii(b, 0, "%PDF-"),
	"text/plain": isText,
};

/** Aliases some clients send, mapped to the name we store. */
const ALIASES: Record<string, string> = {
	"image/jpg": "image/jpeg",
	"audio/mp3": "audio/mpeg",
	"audio/x-wav": "audio/wav",
	"audio/wave": "audio/wav",
	"audio/x-m4a": "audio/mp4",
};

export const ALLOWED_MEDIA_TYPES: readonly string[] = Object.keys(SIGNATURES);

/** Bytes of the body read before anything is stored: enough for every signature and most image headers. */
export const SNIFF_BYTES = 64 * 1024;

/** The allowlisted type named by a Content-Type header (parameters and case ignored), or null. */
export function allowedType(header: string | null | undefined): string | null {
	if (!header) return null;
	const base = header.split(";")[0]?.trim().toLowerCase() ?? "";
	const type = ALIASES[base] ?? base;
	return Object.hasOwn(SIGNATURES, type) ? type : null;
}

/** Whether the first bytes of a body are those of `type` (an allowlisted type). */
export function matchesSignature(type: string, head: Uint8Array): boolean {
	return SIGNATURES[type]?.(head) ?? false;
}

function startsWith(bytes: Uint8Array, prefix: number[]): boolean {
	return bytes.length >= prefix.length && prefix.every((byte, i) => bytes[i] === byte);
}

function ascii(bytes: Uint8Array, offset: number, text: string): boolean {
	if (bytes.length < offset + text.length) return false;
	for (let i = 0; i < text.length; i++) if (bytes[offset + i] !== text.charCodeAt(i)) return false;
	return true;
}

/** ISO base media (MP4, M4A, MOV): a box whose type is `ftyp` first. */
function isoMedia(bytes: Uint8Array): boolean {
	return ascii(bytes, 4, "ftyp");
}

/** Matroska/WebM: the EBML magic. */
function isEbml(bytes: Uint8Array): boolean {
	return startsWith(bytes, [0x1a, 0x45, 0xdf, 0xa3]);
}

/** Plain text: valid UTF-8 (a sequence cut at the end of the sample is fine) without NUL bytes. */
function isText(bytes: Uint8Array): boolean {
	if (bytes.includes(0)) return false;
	try {
		new TextDecoder("utf-8", { fatal: true, ignoreBOM: false }).decode(bytes, { stream: true });
		return true;
	} catch {
		return false;
	}
}

// ── image dimensions ─────────────────────────────────────────────────────────────────────────────

export interface Dimensions {
	width: number;
	height: number;
}

/** Width and height from an image's header, when the sample holds them; null otherwise. */
export function imageDimensions(type: string, b: Uint8Array): Dimensions | null {
	const view = new DataView(b.buffer, b.byteOffset, b.byteLength);
	const fits = (end: number) => b.length >= end;
	const dims = (width: number, height: number) => (width > 0 && height > 0 ? { width, height } : null);
	switch (type) {
		case "image/png":
			// The IHDR chunk comes first: width and height are big-endian at 16 and 20.
			return fits(24) && ascii(b, 12, "IHDR") ? dims(view.getUint32(16), view.getUint32(20)) : null;
		case "image/gif":
			return fits(10) ? dims(view.getUint16(6, true), view.getUint16(8, true)) : null;
		case "image/webp":
			return webpDimensions(b, view);
		case "image/jpeg":
			return jpegDimensions(b, view);
		default:
			return null;
	}
}

function webpDimensions(b: Uint8Array, view: DataView): Dimensions | null {
	// VP8L needs 25 bytes, VP8X and VP8 (lossy) 30.
	if (b.length < 25) return null;
	if (ascii(b, 12, "VP8X") && b.length >= 30) {
		const width = 1 + ((b[24] ?? 0) | ((b[25] ?? 0) << 8) | ((b[26] ?? 0) << 16));
		const height = 1 + ((b[27] ?? 0) | ((b[28] ?? 0) << 8) | ((b[29] ?? 0) << 16));
		return { width, height };
	}
	if (ascii(b, 12, "VP8L") && b[20] === 0x2f) {
		const bits = view.getUint32(21, true);
		return { width: (bits & 0x3fff) + 1, height: ((bits >> 14) & 0x3fff) + 1 };
	}
	if (ascii(b, 12, "VP8 ") && b.length >= 30 && b[23] === 0x9d && b[24] === 0x01 && b[25] === 0x2a) {
		return { width: view.getUint16(26, true) & 0x3fff, height: view.getUint16(28, true) & 0x3fff };
	}
	return null;
}

/** Walks the JPEG segments to the first start-of-frame marker, which holds the dimensions. */
function jpegDimensions(b: Uint8Array, view: DataView): Dimensions | null {
	let offset = 2;
	while (offset + 9 < b.length) {
		if (b[offset] !== 0xff) return null;
		const marker = b[offset + 1] ?? 0;
		if (marker === 0xff) {
			offset += 1; // fill byte
			continue;
		}
		// SOF0..SOF15 except DHT (C4), JPG (C8) and DAC (CC).
		if (marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc) {
			const height = view.getUint16(offset + 5);
			const width = view.getUint16(offset + 7);
			return width > 0 && height > 0 ? { width, height } : null;
		}
		if (marker === 0xd9 || marker === 0xda) return null; // end of image, or scan data before any frame
		offset += 2 + view.getUint16(offset + 2);
	}
	return null;
}
