/**
 * How a route is declared: with `defineRoute` (@hono/zod-openapi's `createRoute`), its parameters,
 * query, body and success answers as schemas from src/protocol.ts, its credential, and the error
 * codes it refuses with. The same declaration validates the request and writes the route's part of
 * `GET /openapi.json` (src/api-docs/), so the document cannot drift from the code.
 */
import { createRoute, OpenAPIHono, type RouteConfig } from "@hono/zod-openapi";
import type { MiddlewareHandler } from "hono";
import { z } from "zod";
import type { AppEnv } from "../context";
import { ERRORS, type ErrorCode } from "../errors";
import { ErrorBody, Id } from "../protocol";
import { readJsonBody, throwBadRequest } from "../validate";

/**
 * A group of routes behind `middleware` (its credential check), whose validation failures answer
 * `bad_request` like every other refusal.
 */
export function routeGroup(...middleware: MiddlewareHandler<AppEnv>[]) {
	const group = new OpenAPIHono<AppEnv>({ defaultHook: throwBadRequest });
	for (const handler of middleware) group.use(handler);
	return group;
}

type RouteDeclaration<P extends string> = Omit<RouteConfig, "path"> & {
	path: P;
	/** The codes the route itself refuses with (its handler, the object or D1 function it calls). */
	refusals?: readonly ErrorCode[];
};

/**
 * `createRoute`, plus the error answers (one per status, the `ErrorBody` schema, naming the codes):
 * `refusals`, and those the declaration implies — `internal` for every route, `unauthorized` and
 * `unavailable` (503, a dependency down) behind a credential, `tenant_not_found` on a tenant's host
 * (every credential but the operator's), `bad_request` for a route with any input, `query_too_long`
 * and `headers_too_large` for every route. A route with a JSON body reads it through `readJsonBody`
 * (`415` for another Content-Type, `413` over the size limit), after its own middleware (credentials
 * first), and so also refuses with `payload_too_large` and `unsupported_media_type`.
 */
export function defineRoute<P extends string, R extends RouteDeclaration<P>>({
	refusals = [],
	...config
}: R) {
	const schemes = (config.security ?? []).flatMap((requirement) => Object.keys(requirement));
	const { params, query, headers, body } = config.request ?? {};
	const jsonBody = body?.content?.["application/json"] !== undefined;
	const implied: ErrorCode[] = [
		...(params || query || headers || body ? (["bad_request"] as const) : []),
		// Every credential is checked against D1 (through a cache) and every such route reaches D1, R2 or
		// an object: any of them may be down for a while.
		...(schemes.length > 0 ? (["unauthorized", "unavailable"] as const) : []),
		...(schemes.some((scheme) => scheme !== "platformAdminKey") ? (["tenant_not_found"] as const) : []),
		...(jsonBody ? (["payload_too_large", "unsupported_media_type"] as const) : []),
		// Every request's query string and headers have their limits (src/request-limits.ts).
		"query_too_long",
		"headers_too_large",
		"internal",
	];
	const middleware = config.middleware === undefined ? [] : [config.middleware].flat();
	return createRoute({
		...config,
		...(jsonBody ? { middleware: [...middleware, readJsonBody] } : {}),
		responses: { ...config.responses, ...errors([...implied, ...refusals]) },
	}) as ReturnType<typeof createRoute<P, Omit<R, "refusals">>>;
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

/** The answer to a retry with the key (a clientId, an Idempotency-Key) of an earlier creation. */
export function replayed<S extends z.ZodType>(schema: S, description: string) {
	return {
		description,
		content: { "application/json": { schema } },
		headers: {
			"Idempotent-Replayed": {
				description: "`true`: the answer of the earlier request with the same key",
				schema: { type: "string" },
			},
		},
	} as const;
}

/** Bytes of any type: media, whose schema is its Content-Type. */
export const BINARY = { type: "string", format: "binary" } as const;

const retryAfter = {
	"Retry-After": { description: "Seconds to wait before retrying.", schema: { type: "integer" } },
} as const;

/**
 * The error answers for `codes`, one per status, each naming its codes (the table of docs/api.md says
 * when each is given). Statuses that tell a client when to retry document `Retry-After`.
 */
function errors(codes: readonly ErrorCode[]) {
	const byStatus = new Map<number, ErrorCode[]>();
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
	);
}

/**
 * A Response whose type the route's declaration cannot carry (an NDJSON stream): its answer is
 * documented in the declaration all the same.
 */
export function declared(response: Response): never {
	return response as never;
}

// ── parameters shared by several groups ──────────────────────────────────────────────────────────
export const ConversationParam = z.object({ id: Id });
