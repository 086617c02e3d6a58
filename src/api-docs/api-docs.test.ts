import { describe, expect, it } from "vitest";
import { call, json } from "../../test/helpers";
import { app } from "../app";
import { ClientFrame, InboxClientFrame, InboxServerFrame, ServerFrame } from "../protocol";
import { framesOf } from "./asyncapi";
import { DOCS_CSP, SCALAR_CONFIGURATION, SCALAR_SCRIPT } from "./page";

/** Routes that exist for the tests only (404 unless EDGECHAT_TEST_HOOKS is "1"): not part of the API. */
const UNDOCUMENTED = new Set(["PUT /v1/admin/test-hooks/conversations/{id}/mirror-fault"]);

const METHODS = ["get", "put", "post", "delete", "patch", "head", "options", "trace"];

interface Operation {
	security?: Record<string, string[]>[];
	tags?: string[];
	parameters?: { in: string }[];
	requestBody?: unknown;
	responses: Record<string, { content?: Record<string, { schema?: { $ref?: string } }> }>;
}
interface OpenApi {
	openapi: string;
	paths: Record<string, Record<string, Operation>>;
	components: { schemas: Record<string, unknown>; securitySchemes: Record<string, unknown> };
}
interface AsyncApi {
	asyncapi: string;
	channels: Record<string, { address: string; messages: Record<string, { $ref: string }> }>;
	operations: Record<string, { action: string; channel: { $ref: string }; messages: { $ref: string }[] }>;
	components: {
		messages: Record<string, { name: string; payload: { $ref: string } }>;
		schemas: Record<string, { properties?: { type?: { const?: string } } }>;
	};
}

/** Any host will do: the documents are served before a tenant is resolved. */
const HOST = "no-tenant.example";

async function openApi(): Promise<OpenApi> {
	return json<OpenApi>(await call(HOST, "/openapi.json"), 200);
}

/** Every route the app answers, as `METHOD /path/{param}` (middleware, which answers ALL, left out). */
function appRoutes(): Set<string> {
	return new Set(
		app.routes
			.filter((route) => route.method !== "ALL")
			.map((route) => `${route.method} ${route.path.replaceAll(/:(\w+)/g, "{$1}")}`),
	);
}

function documentedOperations(doc: OpenApi): Map<string, Operation> {
	const operations = new Map<string, Operation>();
	for (const [path, item] of Object.entries(doc.paths)) {
		for (const [method, operation] of Object.entries(item)) {
			if (METHODS.includes(method)) operations.set(`${method.toUpperCase()} ${path}`, operation);
		}
	}
	return operations;
}

describe("GET /openapi.json", () => {
	it("documents every route of the app, the test-only hook excepted", async () => {
		const documented = documentedOperations(await openApi());
		const missing = [...appRoutes()].filter((route) => !documented.has(route) && !UNDOCUMENTED.has(route));
		expect(missing).toEqual([]);
		expect(appRoutes().size).toBeGreaterThan(25);
	});

	it("documents no operation that the app does not answer", async () => {
		const routes = appRoutes();
		expect([...documentedOperations(await openApi()).keys()].filter((op) => !routes.has(op))).toEqual([]);
		for (const route of UNDOCUMENTED) expect(routes.has(route)).toBe(true);
	});

	it("gives every operation its credential, a success answer, and the error body of every error status", async () => {
		const doc = await openApi();
		expect(doc.openapi).toBe("3.1.0");
		expect(Object.keys(doc.components.securitySchemes).sort()).toEqual([
			"platformAdminKey",
			"tenantApiKey",
			"userToken",
		]);
		for (const [name, operation] of documentedOperations(doc)) {
			const statuses = Object.keys(operation.responses).map(Number);
			expect(
				statuses.some((status) => status < 400),
				name,
			).toBe(true);
			if (operation.tags?.includes("Reference")) continue;
			expect(operation.security?.length, name).toBe(1);
			expect(statuses, name).toContain(500);
			expect(statuses, name).toContain(401);
			if (operation.parameters?.length || operation.requestBody) expect(statuses, name).toContain(400);
			for (const status of statuses.filter((s) => s >= 400)) {
				expect(
					operation.responses[status]?.content?.["application/json"]?.schema,
					`${name} ${status}`,
				).toEqual({
					$ref: "#/components/schemas/ErrorBody",
				});
			}
		}
	});

	it("documents the numbers of query strings as integers in their range", async () => {
		const doc = await openApi();
		const parameters = doc.paths["/v1/conversations/{id}/messages"]?.get?.parameters as
			| { name: string; in: string; schema: Record<string, unknown> }[]
			| undefined;
		const limit = parameters?.find((p) => p.in === "query" && p.name === "limit");
		expect(limit?.schema).toMatchObject({ type: "integer", minimum: 1, maximum: 200 });
		const after = parameters?.find((p) => p.in === "query" && p.name === "after");
		expect(after?.schema).toMatchObject({ type: "integer", minimum: 0 });
	});

	it("lets null through wherever a schema is nullable, named schemas included", async () => {
		const doc = await openApi();
		const nullableAllOf: string[] = [];
		const walk = (value: unknown, path: string): void => {
			if (typeof value !== "object" || value === null) return;
			const { allOf } = value as { allOf?: { type?: unknown }[] };
			if (allOf?.some((part) => Array.isArray(part.type) && part.type.includes("null")))
				nullableAllOf.push(path);
			for (const [key, inner] of Object.entries(value)) walk(inner, `${path}/${key}`);
		};
		walk(doc, "");
		expect(nullableAllOf).toEqual([]);
		expect(doc.components.schemas.ConversationSummary).toMatchObject({
			properties: { lastMessage: { anyOf: [{ $ref: "#/components/schemas/Message" }, { type: "null" }] } },
		});
	});

	it("names the user, tenant and platform credentials on their own prefixes", async () => {
		for (const [name, operation] of documentedOperations(await openApi())) {
			const path = name.split(" ")[1] ?? "";
			const [scheme] = Object.keys(operation.security?.[0] ?? {});
			if (path.startsWith("/platform/v1/")) expect(scheme, name).toBe("platformAdminKey");
			else if (path === "/v1/tokens" || path.startsWith("/v1/admin/"))
				expect(scheme, name).toBe("tenantApiKey");
			else if (path.startsWith("/v1/")) expect(scheme, name).toBe("userToken");
			else expect(scheme, name).toBeUndefined();
		}
	});
});

describe("GET /asyncapi.json", () => {
	const sockets = [
		{
			channel: "conversation",
			address: "/v1/conversations/{id}/ws",
			client: ClientFrame,
			server: ServerFrame,
		},
		{ channel: "inbox", address: "/v1/inbox/ws", client: InboxClientFrame, server: InboxServerFrame },
	];

	it("describes every client and server frame of both sockets, each with its schema", async () => {
		const doc = await json<AsyncApi>(await call(HOST, "/asyncapi.json"), 200);
		expect(doc.asyncapi).toBe("3.0.0");
		for (const socket of sockets) {
			const channel = doc.channels[socket.channel];
			expect(channel?.address).toBe(socket.address);
			const sides = [
				{ union: socket.client, action: "receive", operation: `${socket.channel}.clientFrames` },
				{ union: socket.server, action: "send", operation: `${socket.channel}.serverFrames` },
			];
			for (const side of sides) {
				const operation = doc.operations[side.operation];
				expect(operation?.action).toBe(side.action);
				expect(operation?.channel).toEqual({ $ref: `#/channels/${socket.channel}` });
				const frames = framesOf(side.union);
				expect(operation?.messages).toEqual(
					frames.map((frame) => ({ $ref: `#/channels/${socket.channel}/messages/${frame.id}` })),
				);
				for (const frame of frames) {
					expect(channel?.messages[frame.id]).toEqual({ $ref: `#/components/messages/${frame.id}` });
					const message = doc.components.messages[frame.id];
					expect(message?.name).toBe(frame.type);
					expect(message?.payload).toEqual({ $ref: `#/components/schemas/${frame.id}` });
					expect(doc.components.schemas[frame.id]?.properties?.type?.const).toBe(frame.type);
				}
			}
		}
	});
});

describe("GET /docs", () => {
	it("serves Scalar from the Worker's own assets, reading /openapi.json and fetching nothing else", async () => {
		const response = await call(HOST, "/docs");
		expect(response.status).toBe(200);
		expect(response.headers.get("content-type")).toMatch(/^text\/html/);
		expect(response.headers.get("content-security-policy")).toBe(DOCS_CSP);
		const page = await response.text();
		expect(page).toContain(`<script src="${SCALAR_SCRIPT}"></script>`);
		expect(page).not.toMatch(/https?:\/\//);
		expect(SCALAR_CONFIGURATION).toMatchObject({
			url: "/openapi.json",
			withDefaultFonts: false,
			telemetry: false,
		});
	});

	it("keeps / free for the static assets (the demo app): the Worker has no route there", async () => {
		expect([...appRoutes()].filter((route) => route.endsWith(" /"))).toEqual([]);
		expect((await call(HOST, "/")).status).toBe(404);
	});
});
