// Media throughput through `npm run dev`: upload and download of a 10 MiB object.
//
//   PORT=8791 npm run dev            (in another shell)
//   BASE=http://127.0.0.1:8791 npx node bench/media.mjs
//
// Uses the dev tenant (Host localhost, API key DEV_TENANT_API_KEY, default dev_tenant_key). Prints
// JSON figures; it checks the bytes that come back but asserts no timing.
import { createHash, randomBytes } from "node:crypto";
import { performance } from "node:perf_hooks";

const BASE = process.env.BASE ?? "http://127.0.0.1:8787";
const API_KEY = process.env.DEV_TENANT_API_KEY ?? "dev_tenant_key";
const SIZE = Number(process.env.SIZE ?? 10 * 1024 * 1024);
const RUNS = Number(process.env.RUNS ?? 5);
const MiB = 1024 * 1024;

async function request(path, { token, method = "GET", body, headers = {}, duplex } = {}) {
	const response = await fetch(`${BASE}${path}`, {
		method,
		body,
		duplex,
		headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...headers },
	});
	return response;
}

async function jsonOf(response, status) {
	const text = await response.text();
	if (response.status !== status) throw new Error(`expected ${status}, got ${response.status}: ${text}`);
	return JSON.parse(text);
}

async function token(userId) {
	const response = await request("/v1/tokens", {
		token: API_KEY,
		method: "POST",
		headers: { "content-type": "application/json" },
		body: JSON.stringify({ userId }),
	});
	return (await jsonOf(response, 201)).token;
}

const sha256 = (bytes) => createHash("sha256").update(bytes).digest("hex");
const summary = (ms) => {
	const sorted = [...ms].sort((a, b) => a - b);
	const median = sorted[Math.floor(sorted.length / 2)];
	return {
		medianMs: Math.round(median),
		minMs: Math.round(sorted[0]),
		maxMs: Math.round(sorted.at(-1)),
		medianMiBps: Number((SIZE / MiB / (median / 1000)).toFixed(1)),
	};
};

/** A body of unknown length (no Content-Length: the multipart path), in 64 KiB chunks. */
function chunked(bytes) {
	let offset = 0;
	return new ReadableStream({
		pull(controller) {
			if (offset >= bytes.length) return controller.close();
			controller.enqueue(bytes.subarray(offset, offset + 64 * 1024));
			offset += 64 * 1024;
		},
	});
}

const owner = await token("bench-media-a");
const group = (
	await jsonOf(
		await request("/v1/conversations", {
			token: owner,
			method: "POST",
			headers: { "content-type": "application/json" },
			body: JSON.stringify({ type: "group", title: "media bench", memberIds: ["bench-media-b"] }),
		}),
		201,
	)
).conversation;

const payload = Buffer.concat([Buffer.from("%PDF-1.7\n"), randomBytes(SIZE - 9)]);
const digest = sha256(payload);
const uploads = { withLength: [], withoutLength: [] };
const downloads = [];
const ranges = [];
let mediaId;

for (let run = 0; run < RUNS; run++) {
	let started = performance.now();
	const { media } = await jsonOf(
		await request(`/v1/media?conversationId=${group.id}`, {
			token: owner,
			method: "POST",
			headers: { "content-type": "application/pdf" },
			body: payload,
		}),
		201,
	);
	uploads.withLength.push(performance.now() - started);
	if (media.size !== SIZE) throw new Error(`stored ${media.size} bytes, sent ${SIZE}`);
	mediaId = media.id;

	started = performance.now();
	const streamed = await jsonOf(
		await request(`/v1/media?conversationId=${group.id}`, {
			token: owner,
			method: "POST",
			headers: { "content-type": "application/pdf" },
			body: chunked(payload),
			duplex: "half",
		}),
		201,
	);
	uploads.withoutLength.push(performance.now() - started);
	if (streamed.media.size !== SIZE) throw new Error(`stored ${streamed.media.size} bytes, sent ${SIZE}`);

	started = performance.now();
	const response = await request(`/v1/media/${mediaId}`, { token: owner });
	const body = Buffer.from(await response.arrayBuffer());
	downloads.push(performance.now() - started);
	if (response.status !== 200 || sha256(body) !== digest) throw new Error("download differs from upload");

	started = performance.now();
	const part = await request(`/v1/media/${mediaId}`, {
		token: owner,
		headers: { range: "bytes=5242880-6291455" },
	});
	const partBody = Buffer.from(await part.arrayBuffer());
	ranges.push(performance.now() - started);
	if (part.status !== 206 || !partBody.equals(payload.subarray(5242880, 6291456)))
		throw new Error("bad range");
}

console.log(
	JSON.stringify(
		{
			benchmark: "media",
			base: BASE,
			objectBytes: SIZE,
			runs: RUNS,
			uploadWithContentLength: summary(uploads.withLength),
			uploadChunkedMultipart: summary(uploads.withoutLength),
			download: summary(downloads),
			range1MiB: { medianMs: Math.round([...ranges].sort((a, b) => a - b)[Math.floor(ranges.length / 2)]) },
		},
		null,
		2,
	),
);
