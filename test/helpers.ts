/** Test harness: tenants, tokens, HTTP calls and WebSocket clients against the real Worker. */
import { exports } from "cloudflare:workers";
import { nanoid } from "nanoid";
import { expect } from "vitest";
import { z } from "zod";
import {
	type ConversationView,
	type ErrorBody,
	InboxServerFrame,
	type Message,
	ServerFrame,
} from "../src/protocol";

export const ADMIN_KEY = "test_admin_key";

/** The headers of a well-formed WebSocket opening handshake (RFC 6455 §4.1), as a browser sends them. */
export const UPGRADE_HEADERS = {
	upgrade: "websocket",
	connection: "Upgrade",
	"sec-websocket-key": "dGhlIHNhbXBsZSBub25jZQ==",
	"sec-websocket-version": "13",
} as const;

export interface TestTenant {
	id: string;
	host: string;
	apiKey: string;
	signingKeyId: string;
	signingSecret: string;
}

export interface CallOptions {
	method?: string;
	token?: string | null;
	body?: unknown;
	rawBody?: BodyInit;
	headers?: Record<string, string>;
	host?: string;
}

/** Calls the Worker as a client of `host` would. */
export async function call(host: string, path: string, options: CallOptions = {}): Promise<Response> {
	const headers = new Headers(options.headers);
	headers.set("host", options.host ?? host);
	if (options.token) headers.set("authorization", `Bearer ${options.token}`);
	let body: BodyInit | undefined = options.rawBody;
	if (options.body !== undefined) {
		body = JSON.stringify(options.body);
		if (!headers.has("content-type")) headers.set("content-type", "application/json");
	}
	return exports.default.fetch(
		new Request(`http://${host}${path}`, {
			method: options.method ?? (body ? "POST" : "GET"),
			headers,
			body,
		}),
	);
}

export async function json<T = unknown>(response: Response, status: number): Promise<T> {
	const text = await response.text();
	expect(response.status, text).toBe(status);
	return JSON.parse(text) as T;
}

/** Asserts the error body of the contract and answers its code. */
export async function expectError(
	response: Response,
	status: number,
	code?: string,
): Promise<ErrorBody["error"]> {
	const body = await json<ErrorBody>(response, status);
	expect(body.error).toMatchObject({
		code: expect.any(String),
		message: expect.any(String),
		requestId: expect.any(String),
	});
	expect(body.error.requestId).not.toBe("");
	if (code) expect(body.error.code).toBe(code);
	return body.error;
}

export async function createTenant(settings?: Record<string, unknown>): Promise<TestTenant> {
	const created = await json<{
		tenant: { id: string };
		apiKey: string;
		signingKeyId: string;
		signingSecret: string;
	}>(
		await call("platform.test", "/platform/v1/tenants", {
			token: ADMIN_KEY,
			body: { name: `tenant ${nanoid(6)}` },
		}),
		201,
	);
	const host = `${nanoid(10)
		.toLowerCase()
		.replace(/[^a-z0-9]/g, "x")}.chat.test`;
	await json(
		await call("platform.test", `/platform/v1/tenants/${created.tenant.id}/domains`, {
			token: ADMIN_KEY,
			body: { hostname: host },
		}),
		201,
	);
	if (settings) {
		await json(
			await call("platform.test", `/platform/v1/tenants/${created.tenant.id}`, {
				method: "PATCH",
				token: ADMIN_KEY,
				body: { settings },
			}),
			200,
		);
	}
	return {
		id: created.tenant.id,
		host,
		apiKey: created.apiKey,
		signingKeyId: created.signingKeyId,
		signingSecret: created.signingSecret,
	};
}

/** A tenant whose send rate is lifted, for tests about order and volume rather than rate limits. */
export function createUnlimitedTenant(): Promise<TestTenant> {
	return createTenant({ sendRate: { perSecond: 100_000, burst: 100_000 } });
}

export async function tokenFor(tenant: TestTenant, userId: string): Promise<string> {
	const body = await json<{ token: string }>(
		await call(tenant.host, "/v1/tokens", { token: tenant.apiKey, body: { userId } }),
		201,
	);
	return body.token;
}

/** A tenant's user with a token, ready to call the API. */
export class User {
	private constructor(
		readonly tenant: TestTenant,
		readonly id: string,
		readonly token: string,
	) {}

	static async create(tenant: TestTenant, id = `u_${nanoid(8)}`): Promise<User> {
		return new User(tenant, id, await tokenFor(tenant, id));
	}

	call(path: string, options: CallOptions = {}): Promise<Response> {
		return call(this.tenant.host, path, { token: this.token, ...options });
	}

	async createGroup(memberIds: string[], title?: string): Promise<ConversationView> {
		const body = await json<{ conversation: ConversationView }>(
			await this.call("/v1/conversations", {
				body: { type: "group", memberIds, ...(title ? { title } : {}) },
			}),
			201,
		);
		return body.conversation;
	}

	async send(conversationId: string, text: string, clientId = nanoid()): Promise<Message> {
		const body = await json<{ message: Message }>(
			await this.call(`/v1/conversations/${conversationId}/messages`, { body: { clientId, text } }),
			201,
		);
		return body.message;
	}

	async history(
		conversationId: string,
		query = "after=0&limit=200",
	): Promise<{ messages: Message[]; hasMore: boolean }> {
		return json(await this.call(`/v1/conversations/${conversationId}/messages?${query}`), 200);
	}

	connect(conversationId: string, options: { after?: number } = {}): Promise<Socket> {
		const query = options.after === undefined ? "" : `?after=${options.after}`;
		return Socket.open(this.tenant.host, `/v1/conversations/${conversationId}/ws${query}`, this.token);
	}
}

/** Any frame the harness queued: a server frame of either socket, loosely typed for tests to pick apart. */
export type Frame = { type: string; [key: string]: unknown };

/** Every frame a test socket receives must match one of the protocol's server frame schemas. */
const AnyServerFrame = z.union([ServerFrame, InboxServerFrame]);

/** A WebSocket client that queues every frame, so a test can await the next one of a kind. */
export class Socket {
	readonly frames: Frame[] = [];
	private waiters: (() => void)[] = [];
	closeEvent: { code: number; reason: string } | null = null;
	/** How many batch frames arrived (`messages.created`, `deliveries.updated`: expanded one by one). */
	batches = 0;

	/** Frames that did not match the protocol: `next()` fails the test with them. */
	readonly invalid: string[] = [];

	/**
	 * `closesWhenTold`: like the edgechat client, close with the code a `session.ended` frame asks
	 * for (the server then releases the connection at once); false: a client that ignores it, which
	 * the server closes itself after the grace (src/objects/sessions.ts).
	 */
	private constructor(
		readonly ws: WebSocket,
		closesWhenTold = true,
	) {
		ws.addEventListener("message", (event) => {
			const frame = JSON.parse(event.data as string) as Frame;
			if (frame.type === "session.ended" && closesWhenTold) {
				try {
					ws.close(frame.closeCode as number, String(frame.code));
				} catch {
					// already closing
				}
			}
			const checked = AnyServerFrame.safeParse(frame);
			if (!checked.success)
				this.invalid.push(`${String(event.data).slice(0, 300)} — ${checked.error.message}`);
			if (frame.type === "messages.created") {
				// A batch is the same messages in the same order: tests read them one by one.
				this.batches++;
				for (const message of frame.messages as Message[])
					this.frames.push({ type: "message.created", message });
			} else if (frame.type === "deliveries.updated") {
				this.batches++;
				for (const delivery of frame.deliveries as { userId: string; seq: number }[]) {
					this.frames.push({ type: "delivered.updated", ...delivery });
				}
			} else {
				this.frames.push(frame);
			}
			this.wake();
		});
		ws.addEventListener("close", (event) => {
			this.closeEvent = { code: event.code, reason: event.reason };
			this.wake();
		});
	}

	static async open(
		host: string,
		path: string,
		token: string | null,
		headers: Record<string, string> = {},
		{ closesWhenTold = true } = {},
	) {
		const response = await call(host, path, { token, headers: { ...UPGRADE_HEADERS, ...headers } });
		if (!response.webSocket) throw new Error(`upgrade refused: ${response.status} ${await response.text()}`);
		response.webSocket.accept();
		return new Socket(response.webSocket, closesWhenTold);
	}

	private wake(): void {
		const waiters = this.waiters;
		this.waiters = [];
		for (const wake of waiters) wake();
	}

	send(frame: unknown): void {
		this.ws.send(typeof frame === "string" ? frame : JSON.stringify(frame));
	}

	/** Removes and answers the first queued frame of `type` (any type when omitted), waiting for it. */
	async next<T extends Frame = Frame>(type?: string, timeoutMs = 5000): Promise<T> {
		const deadline = Date.now() + timeoutMs;
		for (;;) {
			if (this.invalid.length > 0) throw new Error(`frames outside the protocol: ${this.invalid.join("\n")}`);
			const index = this.frames.findIndex((f) => type === undefined || f.type === type);
			if (index >= 0) return this.frames.splice(index, 1)[0] as T;
			if (this.closeEvent)
				throw new Error(`socket closed (${this.closeEvent.code}) while waiting for ${type ?? "a frame"}`);
			const left = deadline - Date.now();
			if (left <= 0) {
				throw new Error(
					`no ${type ?? "frame"} within ${timeoutMs} ms; queued: ${JSON.stringify(this.frames.map((f) => f.type))}`,
				);
			}
			await new Promise<void>((resolve) => {
				const timer = setTimeout(resolve, left);
				this.waiters.push(() => {
					clearTimeout(timer);
					resolve();
				});
			});
		}
	}

	/** Answers the `message.created` frames' messages, waiting until `count` have arrived. */
	async messages(count: number, timeoutMs = 10_000): Promise<Message[]> {
		const out: Message[] = [];
		while (out.length < count)
			out.push(
				(await this.next<Extract<ServerFrame, { type: "message.created" }>>("message.created", timeoutMs))
					.message,
			);
		return out;
	}

	async closed(timeoutMs = 5000): Promise<{ code: number; reason: string }> {
		const deadline = Date.now() + timeoutMs;
		while (!this.closeEvent) {
			if (Date.now() > deadline) throw new Error("socket did not close");
			await new Promise<void>((resolve) => {
				const timer = setTimeout(resolve, 50);
				this.waiters.push(() => {
					clearTimeout(timer);
					resolve();
				});
			});
		}
		return this.closeEvent;
	}

	/** Waits until the server has handled everything sent so far: it answers frames in order. */
	async flush(): Promise<void> {
		this.send({ type: "ping", nonce: nanoid() });
		await this.next("pong");
	}

	close(): void {
		try {
			this.ws.close(1000, "done");
		} catch {
			// already closed
		}
	}
}
