// One valid request per route (built from the fixture) and the helpers that derive a malformed
// request from it; http-cases.mjs and random-cases.mjs build their cases with them.
import { credential, fillPath, methodOf, validQuery } from "./routes.mjs";

const MARK = "\u0000FUZZ\u0000";
const MARK_JSON = JSON.stringify(MARK);

/** A valid body with the field at `path` (dotted) replaced by the raw JSON text `rawValue`. */
export function withField(body, path, rawValue) {
	const copy = structuredClone(body);
	const keys = path.split(".");
	let target = copy;
	for (const key of keys.slice(0, -1)) {
		target[key] ??= {};
		target = target[key];
	}
	target[keys.at(-1)] = MARK;
	return JSON.stringify(copy).replace(MARK_JSON, rawValue);
}

export function withoutField(body, path) {
	const copy = structuredClone(body);
	const keys = path.split(".");
	let target = copy;
	for (const key of keys.slice(0, -1)) target = target[key] ?? {};
	delete target[keys.at(-1)];
	return JSON.stringify(copy);
}

const MEDIA_BODY = Buffer.from("hello media\n");

/** The valid request of a route, as a case to mutate. */
export function validCase(route, f, r) {
	const headers = { ...credential(route, f) };
	let body;
	if (route.body) {
		body = JSON.stringify(route.body(f, r));
		headers["content-type"] = "application/json";
	} else if (route.media) {
		body = MEDIA_BODY;
		headers["content-type"] = "text/plain";
	}
	return {
		route: route.route,
		method: methodOf(route),
		path: fillPath(route, f),
		query: validQuery(route, f),
		host: route.audience === "platform" ? "127.0.0.1" : f.a.host,
		headers,
		authLabel: `${route.audience} credential`,
		body,
	};
}

/** `kase` with `changes` (headers merged; a header set to undefined is not sent). */
export function variant(kase, category, label, changes) {
	return { ...kase, ...changes, headers: { ...kase.headers, ...changes.headers }, category, label };
}
