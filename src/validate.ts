/**
 * How a request that does not match its route's schemas is refused: `bad_request`, with a readable
 * reason naming the field. Routes are declared with their schemas (src/routes/openapi.ts); their
 * validators call `throwBadRequest`, so app.onError answers it like every other refusal.
 */
import type { MiddlewareHandler } from "hono";
import type { AppEnv } from "./context";
import { AppError } from "./errors";

export function describeIssues(error: {
	issues: readonly { path: PropertyKey[]; message: string }[];
}): string {
	return error.issues
		.slice(0, 3)
		.map((issue) =>
			issue.path.length > 0 ? `${issue.path.map(String).join(".")}: ${issue.message}` : issue.message,
		)
		.join("; ");
}

/** The validators' hook (`defaultHook` of every route group): a failed parse becomes `bad_request`. */
export function throwBadRequest(result: {
	success: boolean;
	error?: { issues: readonly { path: PropertyKey[]; message: string }[] };
}): void {
	if (!result.success && result.error) throw new AppError("bad_request", describeIssues(result.error));
}

/** The media type hono's JSON validator reads (parameters and case ignored). */
const JSON_MEDIA_TYPE = /^application\/([\w.-]+\+)?json$/i;

/**
 * On a route with a JSON body: a body declared as something else is a `bad_request`, as it was before
 * the routes were declared with @hono/zod-openapi, whose own gate would answer 415 instead. (A request
 * with no Content-Type and no body goes on: the body schema decides, so `{}` defaults still apply.)
 */
export const requireJsonBody: MiddlewareHandler<AppEnv> = async (c, next) => {
	const contentType = c.req.header("content-type");
	if (contentType !== undefined && !JSON_MEDIA_TYPE.test(contentType.split(";")[0]?.trim() ?? "")) {
		throw new AppError(
			"bad_request",
			`The body must be JSON (Content-Type: application/json), not ${contentType}`,
		);
	}
	await next();
};
