/** The Hono app: middleware order, routes, and the one place an error becomes a response. */
import type { Context } from "hono";
import { cors } from "hono/cors";
import { HTTPException } from "hono/http-exception";
import { nanoid } from "nanoid";
import { apiDocsRoutes } from "./api-docs/routes";
import { resolveTenant } from "./auth/middleware";
import type { AppEnv } from "./context";
import { AppError, ERRORS, type ErrorCode, errorBody, toAppError } from "./errors";
import { allowedMethods, requestLimits } from "./request-limits";
import { adminRoutes } from "./routes/admin";
import { conversationRoutes } from "./routes/conversations";
import { conversationListRoutes, inboxRoutes } from "./routes/inbox";
import { mediaRoutes } from "./routes/media";
import { routeGroup } from "./routes/openapi";
import { platformRoutes } from "./routes/platform";
import { searchRoutes } from "./routes/search";
import { tokenRoutes } from "./routes/tokens";
import { TEST_FAULT_HEADER, withTestFaults } from "./test-hooks";

export const app = routeGroup();

app.use(async (c, next) => {
	c.set("requestId", c.req.header("cf-ray") ?? nanoid(16));
	// Test-only: bindings that fail as the header asks; the same env when the hooks are off.
	c.env = withTestFaults(c.env, c.req.header(TEST_FAULT_HEADER));
	await next();
	c.header("x-request-id", c.get("requestId"));
});
app.use(requestLimits);

// The API's own documents and reference page: host-agnostic, so before any tenant is resolved.
app.route("/", apiDocsRoutes(app));
app.route("/platform/v1", platformRoutes);
// Tenants' web apps call from their own origins. Credentials are bearer tokens, never cookies, so
// any origin may call; preflights are answered before the tenant is resolved.
app.use(
	"/v1/*",
	cors({
		origin: "*",
		allowMethods: ["GET", "POST", "PATCH", "DELETE", "OPTIONS"],
		allowHeaders: ["authorization", "content-type", "range", "idempotency-key"],
		exposeHeaders: ["x-request-id", "retry-after", "content-range", "etag", "idempotent-replayed"],
		maxAge: 600,
	}),
);
app.use("/v1/*", resolveTenant);
app.route("/v1/tokens", tokenRoutes);
// Before conversationRoutes: the list is served by the user's Inbox object, not a Conversation.
app.route("/v1/conversations", conversationListRoutes);
app.route("/v1/conversations", conversationRoutes);
app.route("/v1/inbox", inboxRoutes);
app.route("/v1/media", mediaRoutes);
app.route("/v1/search", searchRoutes);
app.route("/v1/admin", adminRoutes);

app.notFound((c) => {
	const path = new URL(c.req.url).pathname;
	const allowed = allowedMethods(app, path);
	if (allowed.length > 0) {
		c.header("Allow", allowed.join(", "));
		throw new AppError("method_not_allowed", `${path} answers ${allowed.join(", ")}, not ${c.req.method}`);
	}
	throw new AppError("not_found", `No route for ${c.req.method} ${path}`);
});

function httpExceptionCode(status: number): ErrorCode {
	const match = (Object.keys(ERRORS) as ErrorCode[]).find((code) => ERRORS[code].status === status);
	return match ?? (status >= 500 ? "internal" : "bad_request");
}

/** The one place an error becomes a response: the error body, with the table's status. */
export function answerError(error: Error, c: Context<AppEnv>): Response {
	const appError =
		error instanceof HTTPException && error.status < 500
			? new AppError(httpExceptionCode(error.status), error.message || "Bad request")
			: toAppError(error, c.get("requestId"));
	if (appError.retryAfter !== undefined) c.header("Retry-After", String(appError.retryAfter));
	c.header("x-request-id", c.get("requestId"));
	return c.json(errorBody(appError, c.get("requestId") ?? ""), appError.status as 400);
}

app.onError(answerError);
