/**
 * How a route is declared: with `defineRoute` (@hono/zod-openapi's `createRoute`), its parameters,
 * query, body and every answer — success bodies and the error body of each status it can refuse with —
 * as schemas from src/protocol.ts. The same declaration validates the request and writes the route's
 * part of `GET /openapi.json` (src/api-docs/), so the document cannot drift from the code.
 */
import { createRoute, OpenAPIHono, type RouteConfig } from "@hono/zod-openapi";
import type { MiddlewareHandler } from "hono";
import { z } from "zod";
import type { AppEnv } from "../context";
import { ERRORS, type ErrorCode } from "../errors";
import { ErrorBody, Id } from "../protocol";
import { requireJsonBody, throwBadRequest } from "../validate";

/**
 * A group of routes behind `middleware` (its credential check), whose validation failures answer
 * `bad_request` like every other refusal.
 */
export function routeGroup(...middleware: MiddlewareHandler<AppEnv>[]) {
	const group = new OpenAPIHono<AppEnv>({ defaultHook: throwBadRequest });
	for (const handler of middleware) group.use(handler);
	return group;
}

/**
 * `createRoute`, plus: a route with a JSON body refuses another declared Content-Type as `bad_request`
 * (see `requireJsonBody`), after the route's own middleware (its credentials are checked first).
 */
export function defineRoute<P extends string, R extends Omit<RouteConfig, "path"> & { path: P }>(config: R) {
	if (!config.request?.body?.content?.["application/json"]) return createRoute(config);
	const middleware = config.middleware === undefined ? [] : [config.middleware].flat();
	return createRoute({ ...config, middleware: [...middleware, requireJsonBody] }) as ReturnType<
		typeof createRoute<P, R>
	>;
}

// ── credentials: the three audiences ─────────────────────────────────────────────────────────────
export const SECURITY_SCHEMES = {
	userToken: {
		type: "http",
		scheme: "bearer",
		bearerFormat: "JWT",
		description:
			"A user's token: an HS256 JWT signed with the tenant's signing secret (`POST /v1/tokens` mints one). WebSocket upgrades may pass it as `?token=` instead, since browsers cannot set headers on them.",
	},
	tenantApiKey: {
		type: "http",
		scheme: "bearer",
		description: "The tenant's API key, for its backend only (shown once when the tenant is created).",
	},
	platformAdminKey: {
		type: "http",
		scheme: "bearer",
		description: "`PLATFORM_ADMIN_KEY`, the secret of the deployment's operator.",
	},
} as const;

/** The `security` of each audience's routes, by the names of SECURITY_SCHEMES. */
export const SECURITY = {
	user: [{ userToken: [] }],
	tenant: [{ tenantApiKey: [] }],
	platform: [{ platformAdminKey: [] }],
} satisfies Record<string, Partial<Record<keyof typeof SECURITY_SCHEMES, never[]>>[]>;

/** What any route of an audience may answer: its credential refused, no tenant for the host, a bug. */
export const USER_ERRORS = ["unauthorized", "tenant_not_found", "internal"] as const;
export const TENANT_ERRORS = USER_ERRORS;
export const PLATFORM_ERRORS = ["unauthorized", "internal"] as const;

// ── answers ──────────────────────────────────────────────────────────────────────────────────────
export function json<S extends z.ZodType>(schema: S, description: string) {
	return { description, content: { "application/json": { schema } } };
}

export function jsonBody<S extends z.ZodType>(schema: S, description?: string) {
	return {
		required: true,
		content: { "application/json": { schema } },
		...(description ? { description } : {}),
	};
}

/** Bytes of any type: media, whose schema is its Content-Type. */
export const BINARY = { type: "string", format: "binary" } as const;

const retryAfter = {
	"Retry-After": { description: "Seconds to wait before retrying.", schema: { type: "integer" } },
} as const;

type ErrorResponses<C extends ErrorCode> = {
	[S in (typeof ERRORS)[C]["status"]]: {
		description: string;
		content: { "application/json": { schema: typeof ErrorBody } };
	};
};

/**
 * The error answers of a route, one per status, each naming its codes (the table of docs/api.md says
 * when each is given). Statuses that tell a client when to retry document `Retry-After`.
 */
export function errors<C extends ErrorCode>(...codes: C[]): ErrorResponses<C> {
	const byStatus = new Map<number, C[]>();
	for (const code of new Set(codes)) {
		const status = ERRORS[code].status;
		byStatus.set(status, [...(byStatus.get(status) ?? []), code]);
	}
	return Object.fromEntries(
		[...byStatus].map(([status, list]) => [
			status,
			{
				description: list.map((code) => `\`${code}\``).join(", "),
				content: { "application/json": { schema: ErrorBody } },
				...(status === 429 || status === 503 ? { headers: retryAfter } : {}),
			},
		]),
	) as ErrorResponses<C>;
}

/**
 * A Response whose type the route's declaration cannot carry (a WebSocket's 101, an NDJSON stream):
 * its answers are documented in the declaration all the same.
 */
export function declared(response: Response): never {
	return response as never;
}

// ── parameters shared by several groups ──────────────────────────────────────────────────────────
export const ConversationParam = z.object({ id: Id });
