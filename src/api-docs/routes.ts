/** `GET /openapi.json`, `GET /asyncapi.json` and `GET /docs`: the same on every host, no credential. */
import type { OpenAPIHono } from "@hono/zod-openapi";
import { cors } from "hono/cors";
import { z } from "zod";
import type { AppEnv } from "../context";
import { defineRoute, routeGroup } from "../routes/openapi";
import { asyncApiDocument } from "./asyncapi";
import { openApiDocument, registerComponents } from "./openapi";
import { DOCS_CSP, DOCS_PAGE } from "./page";

const Document = z.record(z.string(), z.unknown());
const common = { tags: ["Reference"], method: "get" as const };

/** A route answering one of the JSON documents. */
function documentRoute(path: string, summary: string, description: string, format: string) {
	return defineRoute({
		...common,
		path,
		summary,
		description,
		responses: { 200: { description: format, content: { "application/json": { schema: Document } } } },
	});
}

const openApiRoute = documentRoute(
	"/openapi.json",
	"This document",
	"The HTTP API as OpenAPI 3.1, generated from the routes' zod schemas.",
	"OpenAPI 3.1",
);
const asyncApiRoute = documentRoute(
	"/asyncapi.json",
	"The sockets' document",
	"Both WebSockets and every frame as AsyncAPI 3.0, generated from the frames' zod schemas.",
	"AsyncAPI 3.0",
);

const docsRoute = defineRoute({
	...common,
	path: "/docs",
	summary: "The interactive reference",
	description: "This document, rendered by Scalar from the Worker's own static assets.",
	responses: {
		200: { description: "An HTML page", content: { "text/html": { schema: { type: "string" } } } },
	},
});

/** `app` is the whole API: the documents are generated from its routes, once per isolate. */
export function apiDocsRoutes(app: OpenAPIHono<AppEnv>) {
	registerComponents(app);
	let openApi: Record<string, unknown> | undefined;
	let asyncApi: Record<string, unknown> | undefined;
	// Tools on other origins (editors, code generators, a tenant's portal) may fetch the documents.
	return routeGroup(cors({ origin: "*", allowMethods: ["GET"] }))
		.openapi(openApiRoute, (c) => {
			openApi ??= openApiDocument(app);
			return c.json(openApi, 200);
		})
		.openapi(asyncApiRoute, (c) => {
			asyncApi ??= asyncApiDocument();
			return c.json(asyncApi, 200);
		})
		.openapi(docsRoute, (c) => {
			c.header("content-security-policy", DOCS_CSP);
			return c.html(DOCS_PAGE, 200) as never;
		});
}
