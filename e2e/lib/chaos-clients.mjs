// The clients of the chaos test (e2e/chaos.test.mjs), written the way client/index.ts behaves:
// socket senders keep every unacked message and send it again, same clientId, on every `ready`;
// HTTP senders retry a POST with the same clientId until it is answered; a reader resumes by seq
// (`?after=`) after every drop and records whether each session continued exactly where the last
// one stopped. `ctx` carries {base, tenant, words, perSender, window}.
import { messagesOf, openSocket, request } from "./wire.mjs";

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
/** Jittered exponential backoff between 100 ms and 1 s, as a client reconnecting after a deploy. */
export const backoff = (attempt) => Math.min(1_000, 100 * 2 ** attempt) * (0.5 + Math.random() / 2);

/**
 * Requests that ride out the outage: network failures and 5xx are retried, counted in `stats`, for
 * at most two minutes (far longer than an outage lasts), after which the 5xx or the failure stands.
 */
export async function resilient(base, stats, options) {
	const deadline = Date.now() + 120_000;
	for (let attempt = 0; ; attempt++) {
		try {
			const response = await request(base, { timeoutMs: 15_000, ...options });
			if (response.status < 500 || Date.now() > deadline) return response;
			stats.http5xx = (stats.http5xx ?? 0) + 1;
		} catch (error) {
			stats.networkErrors = (stats.networkErrors ?? 0) + 1;
			if (Date.now() > deadline) throw error;
		}
		await sleep(backoff(attempt));
	}
}

/** A unique search word per message; none is a prefix of another (search matches the last word as a prefix). */
export const wordFor = (c, sender, i) =>
	`zq${c}${sender.replace(/[^a-z]/g, "")}${String(i).padStart(4, "0")}`;

export class SocketSender {
	constructor(ctx, userId, token, conversationId, c) {
		Object.assign(this, { ctx, userId, token, conversationId, c });
		this.pending = new Map(); // clientId → {text, resolve}
		this.acks = new Map(); // clientId → seq
		this.stats = { connects: 0, transmissions: 0, duplicateAcks: 0 };
		this.ws = null;
		this.closed = false;
		this.failure = null;
	}

	async connect() {
		for (let attempt = 0; !this.closed; attempt++) {
			try {
				const opened = await openSocket(this.ctx.base, `/v1/conversations/${this.conversationId}/ws`, {
					host: this.ctx.tenant.host,
					headers: { authorization: `Bearer ${this.token}` },
					onFrame: (text) => this.receive(JSON.parse(text)),
				});
				if (opened.refused) throw new Error(`upgrade refused ${opened.refused.status}`);
				if (opened.first.type !== "ready") throw new Error(`first frame ${opened.first.type}`);
				this.stats.connects++;
				this.ws = opened.ws;
				opened.ws.on("close", () => {
					this.ws = null;
					if (!this.closed) void this.connect(); // connect() loops until it succeeds or the sender is closed
				});
				opened.ws.on("error", () => {});
				// As the client does on `ready`: everything not yet acked goes again, same clientId.
				for (const clientId of this.pending.keys()) this.transmit(clientId);
				return;
			} catch {
				await sleep(backoff(attempt));
			}
		}
	}

	transmit(clientId) {
		const pending = this.pending.get(clientId);
		if (!pending || this.ws?.readyState !== 1) return;
		this.stats.transmissions++;
		this.ws.send(JSON.stringify({ type: "message.send", clientId, text: pending.text }));
	}

	receive(frame) {
		if (frame.type === "message.ack") {
			const pending = this.pending.get(frame.clientId);
			if (frame.duplicate) this.stats.duplicateAcks++;
			if (!pending) return;
			this.pending.delete(frame.clientId);
			this.acks.set(frame.clientId, frame.seq);
			pending.resolve();
		} else if (frame.type === "error" && frame.clientId) {
			if (frame.code === "rate_limited") {
				setTimeout(() => this.transmit(frame.clientId), (frame.retryAfter ?? 1) * 1000);
			} else {
				this.failure ??= `${this.userId}: ${frame.code} ${frame.message}`;
				this.pending.get(frame.clientId)?.resolve();
				this.pending.delete(frame.clientId);
			}
		}
	}

	async run() {
		await this.connect();
		const inFlight = new Set();
		for (let i = 0; i < this.ctx.perSender; i++) {
			while (inFlight.size >= this.ctx.window) await Promise.race(inFlight);
			const clientId = `${this.userId}-${this.c}-${i}`;
			const text = `message ${i} from ${this.userId} ${wordFor(this.c, this.userId, i)}`;
			const acked = new Promise((resolve) => this.pending.set(clientId, { text, resolve }));
			const tracked = acked.then(() => inFlight.delete(tracked));
			inFlight.add(tracked);
			this.ctx.words.set(`${this.userId}/${clientId}`, wordFor(this.c, this.userId, i));
			this.transmit(clientId);
		}
		await Promise.all(inFlight);
		this.closed = true;
		this.ws?.close(1000, "done");
	}
}

export class HttpSender {
	constructor(ctx, userId, token, conversationId, c) {
		Object.assign(this, { ctx, userId, token, conversationId, c });
		this.acks = new Map();
		this.stats = { posts: 0, duplicateAnswers: 0 };
		this.failure = null;
	}

	async sendOne(i) {
		const clientId = `${this.userId}-${this.c}-${i}`;
		const text = `message ${i} from ${this.userId} ${wordFor(this.c, this.userId, i)}`;
		this.ctx.words.set(`${this.userId}/${clientId}`, wordFor(this.c, this.userId, i));
		for (;;) {
			this.stats.posts++;
			const response = await resilient(this.ctx.base, this.stats, {
				method: "POST",
				path: `/v1/conversations/${this.conversationId}/messages`,
				host: this.ctx.tenant.host,
				headers: { authorization: `Bearer ${this.token}` },
				body: { clientId, text },
			});
			if (response.status === 201 || response.status === 200) {
				if (response.status === 200) this.stats.duplicateAnswers++;
				this.acks.set(clientId, response.body.message.seq);
				return;
			}
			if (response.status === 429) {
				await sleep(Number(response.headers["retry-after"] ?? 1) * 1000);
				continue;
			}
			this.failure ??= `${this.userId}: ${response.status} ${response.text.slice(0, 200)}`;
			return;
		}
	}

	async run() {
		let next = 0;
		const lane = async () => {
			while (next < this.ctx.perSender) await this.sendOne(next++);
		};
		await Promise.all(Array.from({ length: this.ctx.window }, lane));
	}
}

/** Follows a conversation over its socket, resuming with `?after=<last seq it has>` after every drop. */
export class Reader {
	constructor(ctx, token, conversationId) {
		Object.assign(this, { ctx, token, conversationId });
		this.lastSeq = 0;
		this.sessions = []; // {after, received}
		this.violations = [];
		this.seen = new Set();
		this.closed = false;
		this.ws = null;
	}

	async connect() {
		for (let attempt = 0; !this.closed; attempt++) {
			try {
				const session = { after: this.lastSeq, received: 0 };
				const path = `/v1/conversations/${this.conversationId}/ws?after=${this.lastSeq}&token=${this.token}`;
				const opened = await openSocket(this.ctx.base, path, {
					host: this.ctx.tenant.host,
					onFrame: (text) => this.receive(session, JSON.parse(text)),
				});
				if (opened.refused) throw new Error(`upgrade refused ${opened.refused.status}`);
				this.sessions.push(session);
				this.ws = opened.ws;
				opened.ws.on("close", () => {
					this.ws = null;
					if (!this.closed) void this.connect(); // loops until connected or closed
				});
				opened.ws.on("error", () => {});
				return;
			} catch {
				await sleep(backoff(attempt));
			}
		}
	}

	receive(session, frame) {
		if (frame.type === "replay.truncated") {
			this.violations.push(`unexpected replay.truncated ${JSON.stringify(frame)}`);
			return;
		}
		for (const message of messagesOf(frame)) {
			session.received++;
			if (message.seq !== this.lastSeq + 1) {
				this.violations.push(
					`session after=${session.after}: got seq ${message.seq} after ${this.lastSeq} (${this.seen.has(message.seq) ? "duplicate" : "gap or reorder"})`,
				);
			}
			this.seen.add(message.seq);
			this.lastSeq = Math.max(this.lastSeq, message.seq);
		}
	}

	close() {
		this.closed = true;
		this.ws?.close(1000, "done");
	}
}
