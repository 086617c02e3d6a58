/**
 * Streams an upload into R2 without holding it in memory, enforcing the size cap while bytes flow.
 *
 * - The first bytes are read before anything is stored, to check them against the declared type.
 * - With a Content-Length, the body goes to R2 through a FixedLengthStream: a body longer than it
 *   said (or than the cap) errors the stream and the put fails, so R2 keeps nothing.
 * - Without one, the body goes up as a multipart upload of fixed-size parts (R2 needs a known length
 *   for a single put), aborted when the cap is crossed; a body that fits one part is a single put.
 * - A body that fails midway (`readBody`) is refused with 400 the same ways: the fixed-length put
 *   fails with its stream, the multipart upload is aborted, a single put never starts.
 */
import { AppError } from "../errors";
import { type Dimensions, imageDimensions, matchesSignature, SNIFF_BYTES } from "./sniff";

/** R2 wants parts of one size (the last excepted) and at least 5 MiB. */
export const PART_BYTES = 5 * 1024 * 1024;

export interface UploadInput {
	key: string;
	contentType: string;
	/** The Content-Length the client declared, already checked against `maxBytes`; null when absent. */
	declaredLength: number | null;
	maxBytes: number;
	customMetadata: Record<string, string>;
}

export interface UploadResult {
	size: number;
	dimensions: Dimensions | null;
}

function tooLarge(maxBytes: number): AppError {
	return new AppError("payload_too_large", `Media is limited to ${maxBytes} bytes`);
}

function concat(chunks: Uint8Array[], total: number): Uint8Array {
	const out = new Uint8Array(total);
	let offset = 0;
	for (const chunk of chunks) {
		out.set(chunk, offset);
		offset += chunk.byteLength;
	}
	return out;
}

export async function uploadToR2(
	bucket: R2Bucket,
	body: ReadableStream<Uint8Array> | null,
	input: UploadInput,
): Promise<UploadResult> {
	if (!body) throw new AppError("bad_request", "The upload has no body");
	const limit = Math.min(input.maxBytes, input.declaredLength ?? Number.POSITIVE_INFINITY);
	const reader = body.getReader();
	try {
		// 1. The head: enough bytes to check the type and read image dimensions.
		const headChunks: Uint8Array[] = [];
		let headBytes = 0;
		let done = false;
		while (headBytes < SNIFF_BYTES) {
			const next = await readBody(reader);
			if (next.done) {
				done = true;
				break;
			}
			headChunks.push(next.value);
			headBytes += next.value.byteLength;
			if (headBytes > limit) throw overLimit(input, headBytes);
		}
		if (headBytes === 0) throw new AppError("bad_request", "The upload is empty");
		const head = concat(headChunks, headBytes);
		const sample = head.subarray(0, SNIFF_BYTES);
		if (!matchesSignature(input.contentType, sample)) {
			throw new AppError("unsupported_media_type", `The content is not ${input.contentType}`);
		}
		const dimensions = imageDimensions(input.contentType, sample);
		const options: R2PutOptions = {
			httpMetadata: { contentType: input.contentType },
			customMetadata: input.customMetadata,
		};

		// 2. The rest.
		let size: number;
		if (done) {
			if (input.declaredLength !== null && headBytes !== input.declaredLength) throw shortBody(input);
			await bucket.put(input.key, head, options);
			size = headBytes;
		} else {
			const pending: PendingUpload = { bucket, reader, head, input, options };
			size = await (input.declaredLength !== null ? putFixedLength(pending) : putMultipart(pending));
		}
		return { size, dimensions };
	} catch (error) {
		// Stop reading what we will not store; the client gets our answer, not a reset.
		reader.cancel().catch(() => {});
		throw error;
	}
}

/**
 * The next chunk of the client's body. A body that fails midway (the connection dropped, a client's
 * stream errored) is the client's failure, not ours nor a dependency's, even when the runtime words
 * it "Network connection lost": 400, and the caller makes sure nothing of it is stored.
 */
async function readBody(
	reader: ReadableStreamDefaultReader<Uint8Array>,
): Promise<ReadableStreamReadResult<Uint8Array>> {
	try {
		return await reader.read();
	} catch {
		throw new AppError("bad_request", "The upload was cut short: its body failed before it ended");
	}
}

/** Over the cap, or over the Content-Length it declared (which was under the cap): too large either way. */
function overLimit(input: UploadInput, seen: number): AppError {
	if (seen > input.maxBytes) return tooLarge(input.maxBytes);
	return new AppError(
		"payload_too_large",
		`The body is longer than its Content-Length (${input.declaredLength} bytes)`,
	);
}

function shortBody(input: UploadInput): AppError {
	return new AppError("bad_request", `The body is shorter than its Content-Length (${input.declaredLength})`);
}

/** An upload whose head has been read and checked: what either way of storing the rest needs. */
interface PendingUpload {
	bucket: R2Bucket;
	reader: ReadableStreamDefaultReader<Uint8Array>;
	head: Uint8Array;
	input: UploadInput;
	options: R2PutOptions;
}

async function putFixedLength({ bucket, reader, head, input, options }: PendingUpload): Promise<number> {
	const declared = input.declaredLength as number;
	const stream = new FixedLengthStream(declared);
	const writer = stream.writable.getWriter();
	// An aborted writer rejects `closed` as well; the failure is reported by the pump below.
	writer.closed.catch(() => {});
	const putting = bucket.put(input.key, stream.readable, options);
	// If the pump fails first, the put fails too (its stream errored); that rejection is expected.
	putting.catch(() => {});
	let size = head.byteLength;
	let failure: unknown = null;
	try {
		await writer.write(head);
		for (;;) {
			const next = await readBody(reader);
			if (next.done) break;
			size += next.value.byteLength;
			if (size > declared) throw overLimit(input, size);
			await writer.write(next.value);
		}
		if (size !== declared) throw shortBody(input);
		await writer.close();
	} catch (error) {
		failure = error;
		await writer.abort(error).catch(() => {});
	}
	if (failure) {
		// An errored stream fails the put, and a failed put stores nothing; wait for it to settle.
		await putting.catch(() => {});
		throw failure;
	}
	await putting;
	return size;
}

async function putMultipart({ bucket, reader, head, input, options }: PendingUpload): Promise<number> {
	let upload: R2MultipartUpload | null = null;
	const parts: R2UploadedPart[] = [];
	// Under a cap smaller than a part, the whole body is one put: buffer no more than the cap.
	const partBytes = Math.min(PART_BYTES, input.maxBytes);
	let part = new Uint8Array(partBytes);
	let filled = 0;
	let size = 0;

	const flush = async () => {
		upload ??= await bucket.createMultipartUpload(input.key, options);
		parts.push(await upload.uploadPart(parts.length + 1, part.subarray(0, filled)));
		part = new Uint8Array(partBytes);
		filled = 0;
	};
	const take = async (chunk: Uint8Array) => {
		size += chunk.byteLength;
		if (size > input.maxBytes) throw tooLarge(input.maxBytes);
		let offset = 0;
		while (offset < chunk.byteLength) {
			const n = Math.min(partBytes - filled, chunk.byteLength - offset);
			part.set(chunk.subarray(offset, offset + n), filled);
			filled += n;
			offset += n;
			if (filled === partBytes && partBytes === PART_BYTES) await flush();
		}
	};

	try {
		await take(head);
		for (;;) {
			const next = await readBody(reader);
			if (next.done) break;
			await take(next.value);
		}
		if (!upload) {
			await bucket.put(input.key, part.subarray(0, filled), options);
			return size;
		}
		if (filled > 0) await flush();
		await (upload as R2MultipartUpload).complete(parts);
		return size;
	} catch (error) {
		if (upload) await (upload as R2MultipartUpload).abort().catch(() => {});
		throw error;
	}
}
