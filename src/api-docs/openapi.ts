/**
 * `GET /openapi.json`: the HTTP API as OpenAPI 3.1, generated from the routes' declarations
 * (src/routes/openapi.ts) and the zod schemas of src/protocol.ts. The frame unions of the sockets are
 * components too, so the reference page shows their models; /asyncapi.json describes the sockets.
 */
import type { OpenAPIHono } from "@hono/zod-openapi";
import type { AppEnv } from "../context";
import { ClientFrame, InboxClientFrame, InboxServerFrame, ServerFrame } from "../protocol";
import { SECURITY_SCHEMES } from "../routes/openapi";

const TAGS = [
	{ name: "Conversations", description: "Conversations, their members, and the conversation socket." },
	{ name: "Messages", description: "History, sending, read marks and search." },
	{ name: "Inbox", description: "What arrived while the user was away, and the inbox socket." },
	{ name: "Media", description: "Uploads to R2 and downloads for members." },
	{ name: "Tenant backend", description: "The tenant's backend, with its API key." },
	{ name: "Platform", description: "The operator of the deployment, with the platform admin key." },
	{ name: "Reference", description: "These documents and the reference page." },
];

const DESCRIPTION = `A multi-tenant real-time chat backend. Each tenant reaches it on its own hosts: the tenant is the
request's \`Host\`, so this document names no server (every path is relative to the host it is served from).

- Errors, always: \`{"error": {"code", "message", "requestId"}}\` with the status of the error table; each
  answer below lists the codes it may carry.
- Three audiences, three credentials: the operator (\`/platform/v1\`), a tenant's backend (\`/v1/tokens\`,
  \`/v1/admin\`), a tenant's users (the rest of \`/v1\`).
- The sockets' frames: [\`/asyncapi.json\`](/asyncapi.json) (AsyncAPI 3.0); their models are listed here too.

Concepts, guarantees, limits and the error table with when each code is given: \`docs/api.md\` in the repository.`;

/** Registers what the document needs beyond the routes: the credentials and the frame models. */
export function registerComponents(app: OpenAPIHono<AppEnv>): void {
	for (const [name, scheme] of Object.entries(SECURITY_SCHEMES)) {
		app.openAPIRegistry.registerComponent("securitySchemes", name, scheme);
	}
	const frames = { ClientFrame, ServerFrame, InboxClientFrame, InboxServerFrame };
	for (const [name, schema] of Object.entries(frames)) app.openAPIRegistry.register(name, schema);
}

export function openApiDocument(app: OpenAPIHono<AppEnv>): Record<string, unknown> {
	const document = app.getOpenAPI31Document({
		openapi: "3.1.0",
		info: { title: "edgechat API", version: "v1", description: DESCRIPTION },
		servers: [{ url: "/", description: "The tenant's host this document is served from" }],
		tags: TAGS,
	});
	return nullableRefs(document) as Record<string, unknown>;
}

/**
 * zod-to-openapi writes a nullable named schema (`Message.nullable()`) as
 * `allOf: [{ $ref }, { type: ["object", "null"] }]`, which no null satisfies, since the referenced
 * schema is an object; JSON Schema says it as `anyOf: [{ $ref }, { type: "null" }]`.
 */
function nullableRefs(value: unknown): unknown {
	if (Array.isArray(value)) return value.map(nullableRefs);
	if (typeof value !== "object" || value === null) return value;
	const { allOf, ...rest } = value as { allOf?: unknown[] };
	const [ref, nullable, ...more] = allOf ?? [];
	const type = (nullable as { type?: unknown } | undefined)?.type;
	if (
		more.length === 0 &&
		typeof (ref as { $ref?: unknown } | undefined)?.$ref === "string" &&
		Object.keys(nullable ?? {}).length === 1 &&
		Array.isArray(type) &&
		type.includes("null")
	) {
		return { ...rest, anyOf: [ref, { type: "null" }] };
	}
	return Object.fromEntries(Object.entries(value).map(([key, inner]) => [key, nullableRefs(inner)]));
}
