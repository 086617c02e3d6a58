/**
 * FROZEN: the protocol-1 client as it was at commit 9551964 (client/index.ts), kept unchanged so that a
 * test runs it against the current server (test/compat/protocol-v1.test.ts). Never edit it; a new
 * protocol version freezes its own copy.
 */
/**
 * The edgechat client for browsers, Node ≥ 22 and Workers. It keeps the promise end to end:
 * a message handed to `send` is retried with the same clientId until acked (so it is stored once),
 * and a session delivers every message to the app exactly once and in seq order, across reconnects,
 * deploys and gaps, resuming by seq and paging over HTTP when a replay is truncated.
 */
import {
	CLOSE_NORMAL,
	type ConversationView,
	ERRORS,
	type ErrorBody,
	type Message,
	type ServerFrame,
} from "./protocol";

export type { ConversationView, Message, ServerFrame };

export interface ClientOptions {
	/** e.g. https://chat.example.com */
	baseUrl: string;
	/** The user's token, or a function that answers a fresh one (called again after a 401). */
	token: string | (() => Promise<string>);
	fetch?: (request: Request) => Promise<Response>;
	/** Opens a socket and resolves once it is open; the default uses the global WebSocket. */
	openSocket?: (url: string) => Promise<WebSocket>;
	/** Reconnect backoff: full jitter between 0 and min(maxMs, initialMs · 2^attempt). */
	backoff?: { initialMs: number; maxMs: number };
	pingIntervalMs?: number;
	/**
	 * How often a call that is safe to repeat is tried again after `503 unavailable` (a dependency of
	 * the server failed for a while): after the answer's Retry-After, or the backoff if longer. Default 4.
	 */
	unavailableRetries?: number;
}

/** Per call: whether repeating it is safe (a GET, or a command the server dedupes). */
export interface RequestOptions {
	retry?: boolean;
}

export class EdgechatError extends Error {
	constructor(
		readonly code: string,
		message: string,
		readonly status: number,
		readonly requestId?: string,
	) {
		super(message);
	}
}

function defaultOpenSocket(url: string): Promise<WebSocket> {
	return new Promise((resolve, reject) => {
		const ws = new WebSocket(url);
		ws.addEventListener("open", () => resolve(ws), { once: true });
		ws.addEventListener("error", () => reject(new Error("WebSocket failed to open")), { once: true });
	});
}

export function newClientId(): string {
	return crypto.randomUUID();
}

function sleep(ms: number): Promise<void> {
	return new Promise((resolve) => setTimeout(resolve, ms));
}

export class EdgechatClient {
	readonly #options: Required<Omit<ClientOptions, "token">>;
	readonly #retries: number;
	#token: ClientOptions["token"];
	#cachedToken: string | null = null;

	constructor(options: ClientOptions) {
		this.#token = options.token;
		this.#options = {
			baseUrl: options.baseUrl.replace(/\/$/, ""),
			fetch: options.fetch ?? ((request) => fetch(request)),
			openSocket: options.openSocket ?? defaultOpenSocket,
			backoff: options.backoff ?? { initialMs: 500, maxMs: 30_000 },
			pingIntervalMs: options.pingIntervalMs ?? 30_000,
			unavailableRetries: options.unavailableRetries ?? 4,
		};
		this.#retries = this.#options.unavailableRetries;
	}

	/** Whether a fresh token can be had (the token option is a function). */
	get canRefreshToken(): boolean {
		return typeof this.#token !== "string";
	}

	async token(refresh = false): Promise<string> {
		if (typeof this.#token === "string") return this.#token;
		if (!this.#cachedToken || refresh) this.#cachedToken = await this.#token();
		return this.#cachedToken;
	}

	/**
	 * One JSON call; a 401 with a token function is retried once with a fresh token. A `503
	 * unavailable` is retried with backoff when the call is safe to repeat: every GET, and the commands
	 * that say so (`retry: true`: those the server dedupes, by clientId or by their nature).
	 */
	async request<T>(method: string, path: string, body?: unknown, options: RequestOptions = {}): Promise<T> {
		const retrySafe = options.retry ?? (method === "GET" || method === "HEAD");
		let refreshed = false;
		for (let unavailable = 0; ; ) {
			const headers = new Headers({ authorization: `Bearer ${await this.token(refreshed)}` });
			if (body !== undefined) headers.set("content-type", "application/json");
			const response = await this.#options.fetch(
				new Request(`${this.#options.baseUrl}${path}`, {
					method,
					headers,
					body: body === undefined ? null : JSON.stringify(body),
				}),
			);
			if (response.status === 401 && !refreshed && typeof this.#token !== "string") {
				refreshed = true;
				continue;
			}
			if (response.status === 503 && retrySafe && unavailable < this.#retries) {
				await response.body?.cancel();
				await sleep(this.#unavailableDelay(unavailable++, response.headers.get("retry-after")));
				continue;
			}
			if (response.status === 204) return undefined as T;
			const json = (await response.json().catch(() => null)) as (T & Partial<ErrorBody>) | null;
			if (!response.ok) {
				const error = json?.error;
				throw new EdgechatError(
					error?.code ?? "internal",
					error?.message ?? response.statusText,
					response.status,
					error?.requestId,
				);
			}
			return json as T;
		}
	}

	/** The Retry-After the server gave, or the (jittered, capped) backoff for this attempt if longer. */
	#unavailableDelay(attempt: number, retryAfter: string | null): number {
		const { initialMs, maxMs } = this.#options.backoff;
		const told = Number(retryAfter) > 0 ? Number(retryAfter) * 1000 : 0;
		return Math.max(told, Math.random() * Math.min(maxMs, initialMs * 2 ** attempt));
	}

	/** The pair's conversation; a retry answers the same one (its id is derived from the pair). */
	async createDirect(userId: string): Promise<ConversationView> {
		return (
			await this.request<{ conversation: ConversationView }>(
				"POST",
				"/v1/conversations",
				{ type: "direct", memberIds: [userId] },
				{ retry: true },
			)
		).conversation;
	}

	/** Creates a group; pass the same clientId to retry safely (a retry answers the group created first). */
	async createGroup(
		memberIds: string[],
		title?: string,
		clientId = newClientId(),
	): Promise<ConversationView> {
		const body = { type: "group", clientId, memberIds, ...(title === undefined ? {} : { title }) };
		return (
			await this.request<{ conversation: ConversationView }>("POST", "/v1/conversations", body, {
				retry: true,
			})
		).conversation;
	}

	async getConversation(id: string): Promise<ConversationView> {
		return (await this.request<{ conversation: ConversationView }>("GET", `/v1/conversations/${id}`))
			.conversation;
	}

	history(id: string, query: { after?: number; before?: number; limit?: number }) {
		const params = new URLSearchParams();
		for (const [key, value] of Object.entries(query)) if (value !== undefined) params.set(key, String(value));
		return this.request<{ messages: Message[]; hasMore: boolean }>(
			"GET",
			`/v1/conversations/${id}/messages?${params}`,
		);
	}

	/** Sends over HTTP; pass the same clientId to retry safely. */
	async send(id: string, text: string, clientId = newClientId()): Promise<Message> {
		return (
			await this.request<{ message: Message }>(
				"POST",
				`/v1/conversations/${id}/messages`,
				{ clientId, text },
				{ retry: true },
			)
		).message;
	}

	/** A read mark only moves forward, so a retry changes nothing twice. */
	markRead(id: string, seq: number): Promise<void> {
		return this.request("POST", `/v1/conversations/${id}/read`, { seq }, { retry: true });
	}

	/** Opens a live session on a conversation, delivering every message after `after` exactly once, in order. */
	open(conversationId: string, handlers: SessionHandlers, after = 0): ConversationSession {
		return new ConversationSession(this, this.#options, conversationId, handlers, after);
	}
}

export interface SessionHandlers {
	/** Every message with seq > after, exactly once, in seq order. */
	onMessage(message: Message): void;
	/** Every other server frame (read.updated, typing, presence, member.*). */
	onEvent?(frame: ServerFrame): void;
	/** Connection state changes; `removed` and `unauthorized` are final. */
	onState?(state: "connecting" | "open" | "reconnecting" | "closed" | "removed" | "unauthorized"): void;
}

interface Pending {
	clientId: string;
	text: string;
	resolve: (ack: { seq: number; id: string }) => void;
	reject: (error: EdgechatError) => void;
}

export class ConversationSession {
	/** The highest seq delivered to the app; everything up to it was delivered, once. */
	lastSeq: number;
	#ws: WebSocket | null = null;
	#closed = false;
	/** Why the session ended for good (removed from the conversation), if it did. */
	#ended: EdgechatError | null = null;
	#attempt = 0;
	#ping: ReturnType<typeof setInterval> | null = null;
	#pending = new Map<string, Pending>();
	#ahead = new Map<number, Message>();
	#filling: Promise<void> | null = null;
	/** The close code a `session.ended` frame asked for, until the socket has closed. */
	#endedWith: number | null = null;

	constructor(
		private readonly client: EdgechatClient,
		private readonly options: Required<Omit<ClientOptions, "token">>,
		readonly conversationId: string,
		private readonly handlers: SessionHandlers,
		after: number,
	) {
		this.lastSeq = after;
		void this.connect(); // connect() catches its own failures and schedules the retry
	}

	/** Resolves with the stored message's seq once acked; survives reconnects (same clientId). */
	send(text: string, clientId = newClientId()): Promise<{ seq: number; id: string }> {
		return new Promise((resolve, reject) => {
			if (this.#ended || this.#closed) {
				reject(this.#ended ?? new EdgechatError("closed", "The session is closed", 0));
				return;
			}
			this.#pending.set(clientId, { clientId, text, resolve, reject });
			this.transmit(clientId);
		});
	}

	markRead(seq: number): void {
		this.frame({ type: "read.mark", seq });
	}

	typing(active: boolean): void {
		this.frame({ type: active ? "typing.start" : "typing.stop" });
	}

	close(): void {
		this.#closed = true;
		this.failPending(new EdgechatError("closed", "The session is closed", 0));
		this.stopPing();
		this.#ws?.close(CLOSE_NORMAL, "closed by the client");
		this.handlers.onState?.("closed");
	}

	private frame(frame: Record<string, unknown>): boolean {
		if (this.#ws?.readyState !== WebSocket.OPEN) return false;
		this.#ws.send(JSON.stringify(frame));
		return true;
	}

	private transmit(clientId: string): void {
		const pending = this.#pending.get(clientId);
		if (pending) this.frame({ type: "message.send", clientId, text: pending.text });
	}

	private async connect(): Promise<void> {
		if (this.#closed) return;
		this.handlers.onState?.(this.#attempt === 0 ? "connecting" : "reconnecting");
		try {
			const token = await this.client.token(this.#attempt > 0);
			const base = this.options.baseUrl.replace(/^http/, "ws");
			const query = new URLSearchParams({ token, after: String(this.lastSeq) });
			const ws = await this.options.openSocket(`${base}/v1/conversations/${this.conversationId}/ws?${query}`);
			if (this.#closed) {
				ws.close(CLOSE_NORMAL, "closed by the client");
				return;
			}
			this.#ws = ws;
			ws.addEventListener("message", (event) => this.receive(String(event.data)));
			ws.addEventListener("close", (event) => this.onClose(event.code));
			this.#ping = setInterval(() => this.frame({ type: "ping" }), this.options.pingIntervalMs);
		} catch {
			this.scheduleReconnect();
		}
	}

	private onClose(closeCode: number): void {
		// The code the server asked us to close with, whatever the close handshake echoed.
		const code = this.#endedWith ?? closeCode;
		this.#endedWith = null;
		this.stopPing();
		this.#ws = null;
		if (this.#closed) return;
		if (code === ERRORS.unauthorized.close && !this.client.canRefreshToken) {
			// The token expired and there is no way to get another: reconnecting could only fail.
			this.#closed = true;
			this.#ended = new EdgechatError("unauthorized", "The token expired", 401);
			this.failPending(this.#ended);
			this.handlers.onState?.("unauthorized");
			return;
		}
		if (code === ERRORS.removed_from_conversation.close || code === ERRORS.conversation_not_found.close) {
			this.#closed = true;
			this.#ended = new EdgechatError("removed_from_conversation", "Removed from the conversation", 403);
			this.failPending(this.#ended);
			this.handlers.onState?.("removed");
			return;
		}
		this.scheduleReconnect();
	}

	private scheduleReconnect(): void {
		if (this.#closed) return;
		const { initialMs, maxMs } = this.options.backoff;
		const delay = Math.random() * Math.min(maxMs, initialMs * 2 ** this.#attempt);
		this.#attempt++;
		setTimeout(() => void this.connect(), delay);
	}

	private stopPing(): void {
		if (this.#ping) clearInterval(this.#ping);
		this.#ping = null;
	}

	private failPending(error: EdgechatError): void {
		for (const pending of this.#pending.values()) pending.reject(error);
		this.#pending.clear();
	}

	private receive(data: string): void {
		const frame = JSON.parse(data) as ServerFrame;
		switch (frame.type) {
			case "ready":
				this.#attempt = 0;
				this.handlers.onState?.("open");
				// Anything not yet acked is sent again: the server answers a retry with the original.
				for (const clientId of this.#pending.keys()) this.transmit(clientId);
				return;
			case "message.created":
				this.accept(frame.message);
				return;
			case "messages.created":
				for (const message of frame.messages) this.accept(message);
				return;
			case "replay.truncated":
				this.fillGap();
				return;
			case "message.ack": {
				const pending = this.#pending.get(frame.clientId);
				this.#pending.delete(frame.clientId);
				pending?.resolve({ seq: frame.seq, id: frame.id });
				return;
			}
			case "error": {
				if (frame.clientId && frame.code === "rate_limited") {
					const retryIn = (frame.retryAfter ?? 1) * 1000;
					const clientId = frame.clientId;
					setTimeout(() => this.transmit(clientId), retryIn);
					return;
				}
				const pending = frame.clientId ? this.#pending.get(frame.clientId) : undefined;
				if (pending) {
					this.#pending.delete(pending.clientId);
					pending.reject(new EdgechatError(frame.code, frame.message, 400));
				}
				this.handlers.onEvent?.(frame);
				return;
			}
			case "pong":
				return;
			case "session.ended":
				// The server ended the session (removed, token expired or revoked) and waits for us to
				// close: a server-side close would leave the connection open for seconds (docs/api.md).
				this.#endedWith = frame.closeCode;
				this.#ws?.close(frame.closeCode, frame.code);
				return;
			default:
				this.handlers.onEvent?.(frame);
		}
	}

	/** Delivers in order: a duplicate is dropped, a message ahead of a gap waits for the gap to fill. */
	private accept(message: Message): void {
		if (message.seq <= this.lastSeq) return;
		if (message.seq > this.lastSeq + 1) {
			this.#ahead.set(message.seq, message);
			this.fillGap();
			return;
		}
		this.deliver(message);
		for (let next = this.#ahead.get(this.lastSeq + 1); next; next = this.#ahead.get(this.lastSeq + 1)) {
			this.#ahead.delete(next.seq);
			this.deliver(next);
		}
	}

	private deliver(message: Message): void {
		this.lastSeq = message.seq;
		this.handlers.onMessage(message);
	}

	/** Pages the history over HTTP from lastSeq until there is no gap left. */
	private fillGap(): void {
		if (this.#filling) return;
		this.#filling = (async () => {
			try {
				for (;;) {
					const page = await this.client.history(this.conversationId, { after: this.lastSeq, limit: 200 });
					for (const message of page.messages) this.accept(message);
					if (!page.hasMore) break;
				}
			} catch {
				// The next reconnect resumes from lastSeq anyway.
			} finally {
				this.#filling = null;
				// A message that arrived ahead while the last page was in flight still needs its gap filled.
				if (this.#ahead.size > 0 && !this.#closed) this.fillGap();
			}
		})();
	}
}
