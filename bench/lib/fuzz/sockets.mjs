// The socket side of the fuzz run: a socket that answers "what came back for this frame", the
// malformed handshakes (raw bytes, since a WebSocket client will not write them), and frames that
// break RFC 6455 itself.
import { randomBytes } from "node:crypto";
import net from "node:net";
import { openSocket } from "../../../e2e/lib/wire.mjs";

const ANSWER_TIMEOUT_MS = 15_000;

/**
 * One open socket and the frames it got. `exchange(frames)` sends them, then a probe whose answer
 * marks the end of what they caused: on the conversation socket a message.send without text
 * (answered by an `error` carrying the probe's clientId, as docs/api.md promises), on the inbox
 * socket a frame of an unknown type (an `unknown_frame` error). Answers `{frames, closed}`.
 */
export class FrameSocket {
	constructor({ base, path, host, headers, kind }) {
		Object.assign(this, { base, path, host, headers, kind });
		this.frames = [];
		this.probes = 0;
		this.ws = null;
		this.closed = null;
		this.waiter = null;
		this.opens = 0;
	}

	async open() {
		const opened = await openSocket(this.base, this.path, {
			host: this.host,
			headers: this.headers,
			onFrame: (data) => this.onFrame(data),
		});
		if (opened.refused)
			throw new Error(`${this.path}: refused ${opened.refused.status} ${opened.refused.text}`);
		if (opened.first.type !== "ready") throw new Error(`${this.path}: first frame ${opened.first.type}`);
		this.opens++;
		this.ws = opened.ws;
		this.closed = null;
		opened.ws.on("close", (code, reason) => {
			this.closed = { code, reason: reason.toString() };
			this.waiter?.();
		});
		opened.ws.on("error", () => {});
	}

	onFrame(data) {
		let frame;
		try {
			frame = JSON.parse(data);
		} catch {
			frame = { type: "<not json>", text: data };
		}
		this.frames.push(frame);
		this.waiter?.();
	}

	isProbeAnswer(frame, marker) {
		if (frame.type !== "error") return false;
		return this.kind === "conversation" ? frame.clientId === marker : frame.message?.includes(marker);
	}

	async exchange(frames) {
		if (!this.ws || this.closed) await this.open();
		const start = this.frames.length;
		const marker = `fz-probe-${++this.probes}`;
		const probe =
			this.kind === "conversation"
				? JSON.stringify({ type: "message.send", clientId: marker, text: "" })
				: JSON.stringify({ type: marker });
		try {
			for (const frame of frames) this.ws.send(frame.data, { binary: frame.binary });
			this.ws.send(probe);
		} catch (error) {
			return { frames: this.frames.slice(start), closed: { code: -1, reason: String(error) } };
		}
		const deadline = Date.now() + ANSWER_TIMEOUT_MS;
		for (;;) {
			const end = this.frames.findIndex((f, i) => i >= start && this.isProbeAnswer(f, marker));
			if (end >= 0) return { frames: this.frames.slice(start, end), closed: null };
			if (this.closed) return { frames: this.frames.slice(start), closed: this.closed };
			if (Date.now() > deadline) return { frames: this.frames.slice(start), closed: null, timedOut: true };
			await new Promise((resolve) => {
				this.waiter = resolve;
				setTimeout(resolve, 200);
			});
			this.waiter = null;
		}
	}

	close() {
		this.ws?.close(1000, "fuzz done");
	}
}

/** A handshake request as raw bytes: `lines` are header lines, `method`, `version` and `path` as given. */
export function handshake({ method = "GET", path, host, lines, version = "HTTP/1.1" }) {
	return `${method} ${path} ${version}\r\nHost: ${host}\r\n${lines.map((l) => `${l}\r\n`).join("")}\r\n`;
}

export const GOOD_KEY = () => randomBytes(16).toString("base64");

/** The lines of a valid handshake, with `drop` removed and `set` replacing or adding lines. */
export function handshakeLines({ drop = [], set = {} } = {}) {
	const lines = {
		Upgrade: "websocket",
		Connection: "Upgrade",
		"Sec-WebSocket-Key": GOOD_KEY(),
		"Sec-WebSocket-Version": "13",
	};
	for (const name of drop) delete lines[name];
	const out = Object.entries({ ...lines, ...set })
		.filter(([, v]) => v !== undefined)
		.flatMap(([k, v]) => (Array.isArray(v) ? v.map((x) => `${k}: ${x}`) : [`${k}: ${v}`]));
	return out;
}

/** Server frames (unmasked) in `buffer`: [{opcode, fin, payload}]; stops at the first incomplete one. */
export function parseFrames(buffer) {
	const frames = [];
	let offset = 0;
	while (offset + 2 <= buffer.length) {
		const b0 = buffer[offset];
		const b1 = buffer[offset + 1];
		let length = b1 & 0x7f;
		let head = 2;
		if (length === 126) {
			if (offset + 4 > buffer.length) break;
			length = buffer.readUInt16BE(offset + 2);
			head = 4;
		} else if (length === 127) {
			if (offset + 10 > buffer.length) break;
			length = Number(buffer.readBigUInt64BE(offset + 2));
			head = 10;
		}
		const masked = (b1 & 0x80) !== 0;
		if (masked) head += 4;
		if (offset + head + length > buffer.length) break;
		frames.push({
			fin: (b0 & 0x80) !== 0,
			rsv: (b0 >> 4) & 7,
			opcode: b0 & 0x0f,
			masked,
			payload: buffer.subarray(offset + head, offset + head + length),
		});
		offset += head + length;
	}
	return { frames, rest: buffer.subarray(offset) };
}

/** A client frame: masked unless `mask` is false; `rsv` sets the reserved bits. */
export function clientFrame({ opcode, payload = Buffer.alloc(0), fin = true, rsv = 0, mask = true }) {
	const data = Buffer.isBuffer(payload) ? payload : Buffer.from(payload);
	const length = data.length;
	const head = [((fin ? 0x80 : 0) | (rsv << 4) | opcode) & 0xff];
	const maskBit = mask ? 0x80 : 0;
	if (length < 126) head.push(maskBit | length);
	else if (length < 65536) head.push(maskBit | 126, length >> 8, length & 0xff);
	else throw new Error("clientFrame: keep raw frames under 64 KiB");
	if (!mask) return Buffer.concat([Buffer.from(head), data]);
	const key = randomBytes(4);
	const masked = Buffer.from(data.map((b, i) => b ^ key[i % 4]));
	return Buffer.concat([Buffer.from(head), key, masked]);
}

/**
 * Opens a raw WebSocket (valid handshake), waits for `ready`, writes `frames`, and reports what the
 * server did within `waitMs`: the frames it sent after `ready` and whether (and how) it closed.
 */
export function rawSocketSession({ base, path, host, frames, waitMs = 1_500 }) {
	const url = new URL(base);
	return new Promise((resolve) => {
		const socket = net.connect(Number(url.port), url.hostname);
		let buffer = Buffer.alloc(0);
		let upgraded = false;
		let sent = false;
		let status = null;
		const received = [];
		let closedBy = null;
		const done = () => {
			clearTimeout(timer);
			socket.destroy();
			resolve({ status, received, closedBy });
		};
		const timer = setTimeout(done, waitMs + 15_000);
		socket.on("error", () => {});
		socket.on("close", () => {
			closedBy ??= { tcp: true };
			done();
		});
		socket.on("data", (chunk) => {
			buffer = Buffer.concat([buffer, chunk]);
			if (!upgraded) {
				const split = buffer.indexOf("\r\n\r\n");
				if (split < 0) return;
				status = Number(/^HTTP\/1\.1 (\d{3})/.exec(buffer.subarray(0, split).toString("latin1"))?.[1]);
				if (status !== 101) return done();
				upgraded = true;
				buffer = buffer.subarray(split + 4);
			}
			const { frames: parsed, rest } = parseFrames(buffer);
			buffer = rest;
			for (const frame of parsed) {
				if (frame.opcode === 8)
					closedBy = {
						code: frame.payload.length >= 2 ? frame.payload.readUInt16BE(0) : null,
						reason: frame.payload.subarray(2).toString(),
					};
				else if (!sent && frame.opcode === 1 && frame.payload.toString().includes('"ready"')) {
					sent = true;
					for (const f of frames) socket.write(f);
					clearTimeout(timer);
					setTimeout(done, waitMs);
				} else received.push({ opcode: frame.opcode, text: frame.payload.toString("utf8").slice(0, 200) });
			}
		});
		socket.on("connect", () => socket.write(handshake({ path, host, lines: handshakeLines() })));
	});
}
