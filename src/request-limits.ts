/**
 * What every request is held to before any route sees it (docs/api.md, Limits): the size of its query
 * string and headers, a query string that is well-formed percent-encoded UTF-8, and, on a known path
 * asked with another method, `405` naming the methods it has.
 */
import type { Hono, MiddlewareHandler } from "hono";
import type { AppEnv } from "./context";
import { AppError } from "./errors";
import { LIMITS } from "./protocol";

/** A browser sends its site's cookies on a socket handshake; the API reads none, so they do not count. */
const UNCOUNTED_HEADERS = new Set(["cookie"]);

export const requestLimits: MiddlewareHandler<AppEnv> = async (c, next) => {
	const url = c.req.url;
	const at = url.indexOf("?");
	const query = at < 0 ? "" : url.slice(at + 1);
	if (query.length > LIMITS.queryBytes) {
		throw new AppError("query_too_long", `The query string is limited to ${LIMITS.queryBytes} bytes`);
	}
	if (!wellFormedQuery(query)) {
		throw new AppError("bad_request", "The query string is not well-formed percent-encoded UTF-8");
	}
	let total = 0;
	for (const [name, value] of c.req.raw.headers) {
		if (UNCOUNTED_HEADERS.has(name)) continue;
		if (value.length > LIMITS.headerBytes) {
			throw new AppError("headers_too_large", `The ${name} header is limited to ${LIMITS.headerBytes} bytes`);
		}
		total += name.length + value.length;
	}
	if (total > LIMITS.headersBytes) {
		throw new AppError("headers_too_large", `Request headers are limited to ${LIMITS.headersBytes} bytes`);
	}
	await next();
};

/**
 * Whether every name and value decodes: a `%` followed by two hex digits, making UTF-8 as a whole
 * (`%ED%A0%80`, a surrogate's bytes, does not), and no bare `%`. Hono would keep an undecodable value
 * as it was sent, so `?q=%ED%A0%80` would otherwise reach a route as the text "%ED%A0%80".
 */
export function wellFormedQuery(query: string): boolean {
	if (!query.includes("%")) return true;
	for (const part of query.split(/[&=]/)) {
		try {
			decodeURIComponent(part);
		} catch {
			return false;
		}
	}
	return true;
}

/** Hono's path pattern (`/v1/conversations/:id/ws`) as a regular expression of the whole path. */
function patternOf(path: string): RegExp {
	const source = path
		.split("/")
		.map((segment) =>
			segment === "*"
				? ".*"
				: segment.startsWith(":")
					? "[^/]+"
					: segment.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"),
		)
		.join("/");
	return new RegExp(`^${source}$`);
}

/**
 * The methods the app's routes have on `path` (middleware, registered for every method, aside), HEAD
 * with GET as Hono answers it; empty when no route has the path.
 */
export function allowedMethods(app: Hono<AppEnv>, path: string): string[] {
	const methods = new Set<string>();
	for (const route of app.routes) {
		if (route.method === "ALL" || methods.has(route.method)) continue;
		if (patternOf(route.path).test(path)) methods.add(route.method);
	}
	if (methods.has("GET")) methods.add("HEAD");
	return [...methods].sort();
}
