// Black-box access to a running edgechat: HTTP with an explicit Host (the tenant is resolved from it),
// raw bytes over TCP for what an HTTP client refuses to send, WebSockets with a Host, and a tenant of
// one's own made through the platform API. Only what docs/api.md documents is used.
import { randomBytes } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import http from "node:http";
import net from "node:net";
import { fileURLToPath } from "node:url";
import WebSocket from "ws";

const root = fileURLToPath(new URL("../..", import.meta.url));

/** A value of .dev.vars (or .dev.vars.example, whose defaults scripts/dev.mjs copies on first run). */
export function devVar(name, fallback) {
	if (process.env[name]) return process.env[name];
	for (const file of [".dev.vars", ".dev.vars.example"]) {
		if (!existsSync(`${root}${file}`)) continue;
		const line = readFileSync(`${root}${file}`, "utf8")
			.split("\n")
			.find((l) => l.trim().startsWith(`${name}=`));
		if (line) return line.slice(line.indexOf("=") + 1).trim();
	}
	return fallback;
}

const agent = new http.Agent({ keepAlive: true, maxSockets: 32 });

/**
 * One HTTP request; resolves `{status, headers, text, body}` (body: parsed JSON or undefined) and
 * rejects only on a network failure or the timeout. `body`: a string, Buffer, or a value sent as JSON.
 */
export function request(base, { method = "GET", path, host, headers = {}, body, timeoutMs = 30_000 }) {
	const url = new URL(base);
	let data;
	const sent = { ...headers };
	if (body !== undefined) {
		if (typeof body === "string" || Buffer.isBuffer(body)) data = body;
		else {
			data = JSON.stringify(body);
			if (!Object.keys(sent).some((h) => h.toLowerCase() === "content-type"))
				sent["content-type"] = "application/json";
		}
		if (!Object.keys(sent).some((h) => h.toLowerCase() === "content-length"))
			sent["content-length"] = Buffer.byteLength(data);
	}
	if (host) sent.host = host;
	return new Promise((resolve, reject) => {
		const req = http.request(
			{ agent, host: url.hostname, port: url.port, method, path, headers: sent },
			(res) => {
				const chunks = [];
				res.on("data", (chunk) => chunks.push(chunk));
				res.on("error", reject);
				res.on("end", () => {
					clearTimeout(timer);
					const text = Buffer.concat(chunks).toString("utf8");
					let parsed;
					try {
						parsed = text ? JSON.parse(text) : undefined;
					} catch {}
					resolve({ status: res.statusCode, headers: res.headers, text, body: parsed });
				});
			},
		);
		const timer = setTimeout(() => req.destroy(new Error(`timeout after ${timeoutMs} ms`)), timeoutMs);
		req.on("error", (error) => {
			clearTimeout(timer);
			reject(error);
		});
		req.end(data);
	});
}

/** Throws unless the answer has `status`; answers its JSON. */
export async function expectStatus(responsePromise, status, what = "request") {
	const response = await responsePromise;
	if (response.status !== status)
		throw new Error(`${what}: expected ${status}, got ${response.status} ${response.text.slice(0, 500)}`);
	return response.body;
}

/**
 * Raw bytes to the server over one TCP connection: writes each chunk of `chunks` (strings or
 * Buffers), then half-closes when `end` is set, and collects what comes back until the server closes,
 * `timeoutMs` passes, or (with `untilHead`) the response head has arrived. Answers
 * `{status, headers, head, body, closed, timedOut}` (status null when nothing came back).
 */
export function rawExchange(
	base,
	chunks,
	{ end = false, timeoutMs = 5_000, untilHead = false, settleMs = 150 } = {},
) {
	const url = new URL(base);
	return new Promise((resolve) => {
		const socket = net.connect(Number(url.port), url.hostname);
		let data = Buffer.alloc(0);
		let settled = false;
		let settling = false;
		const finish = (closed, timedOut) => {
			if (settled) return;
			settled = true;
			clearTimeout(timer);
			socket.destroy();
			resolve({ ...parseHead(data), closed, timedOut });
		};
		const timer = setTimeout(() => finish(false, true), timeoutMs);
		socket.on("error", () => finish(true, false));
		socket.on("close", () => finish(true, false));
		socket.on("data", (chunk) => {
			data = Buffer.concat([data, chunk]);
			if (untilHead && data.includes("\r\n\r\n") && !settling) {
				// Give a short body (an error JSON, a first frame) a moment to follow its head.
				settling = true;
				setTimeout(() => finish(false, false), settleMs);
			}
		});
		socket.on("connect", () => {
			for (const chunk of chunks) socket.write(chunk);
			if (end) socket.end();
		});
	});
}

function parseHead(buffer) {
	const split = buffer.indexOf("\r\n\r\n");
	if (split < 0) return { status: null, headers: {}, head: buffer.toString("latin1"), body: Buffer.alloc(0) };
	const head = buffer.subarray(0, split).toString("latin1");
	const [statusLine, ...lines] = head.split("\r\n");
	const headers = {};
	for (const line of lines) {
		const colon = line.indexOf(":");
		if (colon > 0) headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
	}
	const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(statusLine)?.[1] ?? Number.NaN);
	let body = buffer.subarray(split + 4);
	if (/chunked/i.test(headers["transfer-encoding"] ?? "")) body = dechunk(body);
	return { status: Number.isNaN(status) ? null : status, headers, head, body };
}

function dechunk(buffer) {
	const parts = [];
	let offset = 0;
	while (offset < buffer.length) {
		const lineEnd = buffer.indexOf("\r\n", offset);
		if (lineEnd < 0) break;
		const size = Number.parseInt(buffer.subarray(offset, lineEnd).toString("latin1"), 16);
		if (!size) break;
		parts.push(buffer.subarray(lineEnd + 2, lineEnd + 2 + size));
		offset = lineEnd + 2 + size + 2;
	}
	return Buffer.concat(parts);
}

/**
 * Opens a WebSocket to `path` with the tenant's Host. Resolves `{ws, first}` once the first frame
 * (normally `ready`) arrived, or `{refused: {status, headers, text}}` when the upgrade was answered
 * with HTTP; rejects on a network failure or the timeout.
 */
export function openSocket(base, path, { host, headers = {}, timeoutMs = 15_000, onFrame } = {}) {
	const url = new URL(path, base.replace(/^http/, "ws"));
	return new Promise((resolve, reject) => {
		const ws = new WebSocket(url, { headers: { ...headers, ...(host ? { host } : {}) } });
		const timer = setTimeout(() => {
			ws.terminate();
			reject(new Error(`socket ${path}: nothing within ${timeoutMs} ms`));
		}, timeoutMs);
		let first = true;
		ws.on("message", (data, isBinary) => {
			const text = data.toString("utf8");
			if (first) {
				first = false;
				clearTimeout(timer);
				let frame;
				try {
					frame = JSON.parse(text);
				} catch {
					frame = { type: "<not json>", text };
				}
				resolve({ ws, first: frame });
				return;
			}
			onFrame?.(text, isBinary);
		});
		ws.on("unexpected-response", (_request, response) => {
			const chunks = [];
			response.on("data", (chunk) => chunks.push(chunk));
			response.on("end", () => {
				clearTimeout(timer);
				ws.terminate();
				resolve({
					refused: {
						status: response.statusCode,
						headers: response.headers,
						text: Buffer.concat(chunks).toString("utf8"),
					},
				});
			});
		});
		ws.on("error", (error) => {
			clearTimeout(timer);
			reject(error);
		});
		ws.on("close", (code, reason) => {
			if (!first) return;
			clearTimeout(timer);
			reject(new Error(`socket ${path}: closed ${code} ${reason} before its first frame`));
		});
	});
}

/**
 * A tenant of one's own on the server at `base`: created through the platform API, bound to a
 * random `*.localhost` host, with `settings` applied. Answers `{id, host, apiKey, signingKeyId,
 * signingSecret, token(userId)}`.
 */
export async function createTenant(base, { name = "tenant", settings, adminKey } = {}) {
	const admin = adminKey ?? devVar("PLATFORM_ADMIN_KEY", "dev_admin_key");
	const auth = { authorization: `Bearer ${admin}` };
	const created = await expectStatus(
		request(base, { method: "POST", path: "/platform/v1/tenants", headers: auth, body: { name } }),
		201,
		"create tenant",
	);
	const host = `${randomBytes(6).toString("hex")}.localhost`;
	await expectStatus(
		request(base, {
			method: "POST",
			path: `/platform/v1/tenants/${created.tenant.id}/domains`,
			headers: auth,
			body: { hostname: host },
		}),
		201,
		"add domain",
	);
	if (settings) {
		await expectStatus(
			request(base, {
				method: "PATCH",
				path: `/platform/v1/tenants/${created.tenant.id}`,
				headers: auth,
				body: { settings },
			}),
			200,
			"tenant settings",
		);
	}
	const tenant = {
		id: created.tenant.id,
		host,
		apiKey: created.apiKey,
		signingKeyId: created.signingKeyId,
		signingSecret: created.signingSecret,
		async token(userId, extra = {}) {
			const body = await expectStatus(
				request(base, {
					method: "POST",
					path: "/v1/tokens",
					host,
					headers: { authorization: `Bearer ${created.apiKey}` },
					body: { userId, ...extra },
				}),
				201,
				`token for ${userId}`,
			);
			return body.token;
		},
	};
	return tenant;
}

/** The messages a server frame carries: `message.created` is one, `messages.created` is many. */
export function messagesOf(frame) {
	if (frame.type === "message.created") return [frame.message];
	if (frame.type === "messages.created") return frame.messages;
	return [];
}
