// HTTP fuzz cases: a catalogue that breaks one thing of each route's valid request at a time (every
// route × every applicable mutation); random-cases.mjs adds random ones. A case says what
// the contract expects of its answer (`expect`, checked by oracle.mjs) and carries labels instead of
// secrets so that its reproducer can be printed.
import { validCase, variant, withField, withoutField } from "./requests.mjs";
import { credential, fillPath, METHODS_BY_PATH, methodOf, ROUTES } from "./routes.mjs";
import {
	BAD_JSON,
	BAD_NUMBERS,
	FIELD_KINDS,
	GARBAGE_TOKENS,
	LAX_NUMBERS,
	LONE_SURROGATES,
	nested,
} from "./values.mjs";

const REJECT = { reject: true, statuses: [400] };
const UNAUTHORIZED = { reject: true, statuses: [401], codes: ["unauthorized"] };

function authCases(route, f, valid) {
	const cases = [];
	const add = (label, authorization, extra = {}) =>
		cases.push(
			variant(valid, "auth", label, {
				headers: { authorization },
				authLabel: label,
				expect: UNAUTHORIZED,
				...extra,
			}),
		);
	cases.push(
		variant(valid, "auth", "no Authorization", {
			headers: { authorization: undefined },
			authLabel: "none",
			expect: UNAUTHORIZED,
		}),
	);
	for (const token of GARBAGE_TOKENS)
		add(`Bearer garbage ${JSON.stringify(token.slice(0, 20))}`, `Bearer ${token}`);
	add("Basic scheme", `Basic ${Buffer.from("a:b").toString("base64")}`);
	add("scheme only", "Bearer");
	add("credential without a scheme", credential(route, f).authorization.slice(7));
	if (route.audience === "user") {
		for (const [label, token] of Object.entries(f.tokens.forged)) add(`token: ${label}`, `Bearer ${token}`);
		for (const [label, token] of Object.entries(f.tokens.lenient))
			add(`token: ${label}`, `Bearer ${token}`, { expect: { prefer: [401] } });
	} else if (route.audience === "tenant") {
		add("user token as API key", `Bearer ${f.tokens.owner}`);
		add("platform admin key as API key", `Bearer ${f.adminKey}`);
		add("other tenant's API key", `Bearer ${f.b.apiKey}`);
		add("API key + 1 char", `Bearer ${f.a.apiKey}x`);
	} else {
		add("tenant API key as admin key", `Bearer ${f.a.apiKey}`);
		add("user token as admin key", `Bearer ${f.tokens.owner}`);
		add("admin key + 1 char", `Bearer ${f.adminKey}x`);
		add("admin key prefix", `Bearer ${f.adminKey.slice(0, -1)}`);
	}
	if (route.audience !== "platform") {
		cases.push(
			variant(valid, "host", "unknown host", {
				host: "nobody-fuzz.localhost",
				expect: { reject: true, statuses: [404], codes: ["tenant_not_found"] },
			}),
			variant(valid, "host", "the other tenant's host", { host: f.b.host, expect: UNAUTHORIZED }),
			variant(valid, "host", "a 300-char host", {
				host: `${"h".repeat(60)}.${"h".repeat(60)}.${"h".repeat(60)}.${"h".repeat(60)}.${"h".repeat(55)}.localhost`,
				expect: { reject: true, statuses: [400, 404] },
			}),
			variant(valid, "host", "host with a port", {
				host: `${f.a.host}:1234`,
				expect: { statuses: route.control },
			}),
			variant(valid, "host", "host in upper case", {
				host: f.a.host.toUpperCase(),
				expect: { statuses: route.control },
			}),
		);
	}
	if (route.audience === "user" && methodOf(route) === "GET" && !route.path.endsWith("/ws")) {
		// docs/api.md: only WebSocket upgrades may pass ?token=.
		cases.push(
			variant(valid, "auth", "?token= instead of the header on a non-socket route", {
				headers: { authorization: undefined },
				query: [...valid.query, ["token", f.tokens.owner]],
				authLabel: "?token=<owner token>",
				expect: { prefer: [401] },
			}),
		);
	}
	return cases;
}

function methodCases(route, valid) {
	const allowed = METHODS_BY_PATH.get(route.path);
	return ["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE", "PROPFIND", "FUZZ"]
		.filter((m) => !allowed.has(m))
		.map((method) =>
			variant(valid, "method", `${method} instead of ${methodOf(route)}`, {
				method,
				// docs/api.md: a path the API has, asked with another method, is a 405 with Allow.
				expect:
					method === "OPTIONS"
						? {}
						: method === "FUZZ"
							? { reject: true, statuses: [405, 501] }
							: { reject: true, statuses: [405], codes: ["method_not_allowed"], allow: true },
				// workerd refuses methods it does not know (501, plain text) before any Worker runs.
				...(method === "FUZZ" ? { runtime: "workerd's HTTP parser" } : {}),
			}),
		);
}

function bodyCases(route, f, r, valid) {
	if (!route.body) return [];
	const cases = [];
	// A fresh valid body per case: a send that reused a clientId would be answered as a retry.
	const fresh = () => route.body(f, r);
	const template = fresh();
	for (const text of BAD_JSON)
		cases.push(
			variant(valid, "json", `body ${JSON.stringify(text.slice(0, 30))}`, { body: text, expect: REJECT }),
		);
	for (const [field, kind] of Object.entries(route.fields ?? {})) {
		for (const value of FIELD_KINDS[kind]) {
			const surrogate = value.label.includes("surrogate");
			cases.push(
				variant(valid, surrogate ? "surrogate" : "field", `${field} = ${value.label}`, {
					body: withField(fresh(), field, value.raw),
					expect: { reject: true, statuses: [400, 413] },
				}),
			);
		}
		cases.push(
			variant(valid, "nesting", `${field} = 20000-deep arrays`, {
				body: withField(fresh(), field, nested("array", 20_000)),
				expect: { reject: true, statuses: [400, 413] },
			}),
		);
	}
	for (const field of route.required ?? [])
		cases.push(
			variant(valid, "field", `without ${field}`, { body: withoutField(fresh(), field), expect: REJECT }),
		);
	cases.push(
		variant(valid, "field", "an unknown extra field", {
			body: withField(fresh(), "fuzzExtra", "1"),
			expect: {},
		}),
		variant(valid, "field", "a duplicate key", {
			body: JSON.stringify(fresh()).replace(
				/^\{/,
				`{${JSON.stringify(Object.keys(template)[0] ?? "a")}:null,`,
			),
			expect: {},
		}),
	);
	for (const kind of ["array", "object", "mixed"])
		for (const depth of [1_000, 100_000, 600_000])
			cases.push(
				variant(valid, "nesting", `body ${depth}-deep ${kind}`, {
					body: nested(kind, depth),
					expect: { reject: true, statuses: [400, 413] },
				}),
			);
	for (const mb of [2, 5])
		cases.push(
			variant(valid, "oversize", `valid body padded to ${mb} MB with spaces`, {
				body: JSON.stringify(fresh()).replace(/^\{/, `{${" ".repeat(mb * 1024 * 1024)}`),
				expect: { reject: true, statuses: [413] },
			}),
		);
	const firstField = Object.keys(route.fields ?? {})[0];
	if (firstField)
		cases.push(
			variant(valid, "oversize", `${firstField} = a 3 MB string`, {
				body: withField(fresh(), firstField, JSON.stringify("x".repeat(3 * 1024 * 1024))),
				expect: { reject: true, statuses: [400, 413] },
			}),
		);
	const contentTypes = [
		[undefined, "no Content-Type"],
		["text/plain", "text/plain"],
		["application/x-www-form-urlencoded", "form"],
		["multipart/form-data; boundary=x", "multipart"],
		["application/xml", "xml"],
		["application/jsonx", "application/jsonx"],
		["json", "bare json"],
		["application/json; charset=utf-16", "charset utf-16"],
		["\u00e9/\u00e9", "latin-1 garbage"],
	];
	// docs/api.md: a JSON route's body not declared application/json in UTF-8 is a 415.
	for (const [type, label] of contentTypes)
		cases.push(
			variant(valid, "content-type", `Content-Type ${label}`, {
				body: JSON.stringify(fresh()),
				headers: { "content-type": type },
				expect: { reject: true, statuses: [415], codes: ["unsupported_media_type"] },
			}),
		);
	const json = JSON.stringify(fresh());
	for (const at of [1, Math.floor(json.length / 2), json.length - 1])
		cases.push(
			variant(valid, "truncated", `body cut at ${at} of ${json.length}`, {
				body: json.slice(0, at),
				expect: REJECT,
			}),
		);
	cases.push(
		variant(valid, "truncated", "Content-Length beyond the body, then EOF", {
			transport: "raw",
			body: JSON.stringify(fresh()),
			declaredLength: json.length + 50,
			expect: { reject: true },
			// Under `wrangler dev`, miniflare's entry worker answers this one before the Worker runs.
			runtime: "miniflare's entry worker (dev only)",
		}),
		variant(valid, "encoding", "UTF-16LE body", {
			body: Buffer.from(JSON.stringify(fresh()), "utf16le"),
			expect: REJECT,
		}),
		variant(valid, "encoding", "invalid UTF-8 in a string", {
			body: Buffer.concat([
				Buffer.from(JSON.stringify(fresh()).slice(0, -2)),
				Buffer.from([0xc3, 0x28, 0xed, 0xa0, 0x80]),
				Buffer.from('"}'),
			]),
			expect: {},
		}),
		// A BOM is fine: the Fetch standard's body.json() strips it.
		variant(valid, "encoding", "UTF-8 BOM", {
			body: Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(JSON.stringify(fresh()))]),
			expect: {},
		}),
	);
	return cases;
}

const BAD_IDS = [
	["%20", "a space"],
	["i".repeat(65), "65 chars"],
	["i".repeat(5000), "5000 chars"],
	["%00", "NUL"],
	["a%2Fb", "encoded slash"],
	["..", "dot-dot"],
	["%2e%2e", "encoded dot-dot"],
	["%C3%A9", "é"],
	["%ED%A0%80", "encoded lone surrogate"],
	["%FF", "invalid UTF-8"],
	["%", "bare percent"],
	["%3Cscript%3E", "<script>"],
	["g_fuzz_does_not_exist", "unknown id"],
];

function pathCases(route, valid, f) {
	const cases = [];
	for (const name of Object.keys(route.params ?? {}))
		for (const [value, label] of BAD_IDS)
			cases.push(
				variant(valid, "path", `:${name} = ${label}`, {
					path: fillPath(route, f, { [name]: value }),
					expect:
						route.route.startsWith("DELETE") && name === "userId" && label === "unknown id"
							? {}
							: { reject: true, statuses: [400, 404] },
				}),
			);
	if (route.audience === "user" && route.params?.id) {
		const media = route.path.startsWith("/v1/media");
		cases.push(
			variant(valid, "access", "a user of the tenant who is no member", {
				headers: { authorization: `Bearer ${f.tokens.outsider}` },
				authLabel: "outsider token",
				expect: media
					? { reject: true, statuses: [403], codes: ["forbidden"] }
					: { reject: true, statuses: [404], codes: ["conversation_not_found"] },
			}),
		);
	}
	return cases;
}

/** A query value as sent: pre-encoded values (with a %) go as they are, the rest percent-encoded. */
const enc = (value) => (value.includes("%") ? value : encodeURIComponent(value));

function queryValues(spec) {
	if (spec.kind === "number")
		return [
			...LAX_NUMBERS.map((v) => [enc(v), `lax number ${JSON.stringify(v)}`, REJECT]),
			...BAD_NUMBERS.map((v) => [enc(v), `bad number ${JSON.stringify(v.slice(0, 20))}`, REJECT]),
		];
	if (spec.kind === "limit")
		return [
			["0", "0", REJECT],
			[String(spec.max + 1), `${spec.max + 1}`, REJECT],
			["1e3", "1e3", REJECT],
			["1e1", "1e1 (lax 10)", REJECT],
			["0x10", "0x10 (lax 16)", REJECT],
			["", "empty", REJECT],
			["-5", "-5", REJECT],
			["2.5", "2.5", REJECT],
			["9".repeat(30), "30 nines", REJECT],
		];
	if (spec.kind === "q")
		return [
			["", "empty", REJECT],
			["%20%20", "blank", REJECT],
			["q".repeat(201), "201 chars", REJECT],
			...[
				'"',
				"*",
				"hello*",
				"NEAR(a b)",
				"a OR b",
				"a AND",
				"NOT",
				"text:hello",
				"^hello",
				"-hello",
				"'",
				"(((",
				'a"b',
				"{a b}",
				"\u0000",
			].map((v) => [encodeURIComponent(v), `FTS syntax ${JSON.stringify(v)}`, { statuses: [200, 400] }]),
			...["%00", "%FF", "%F0%9F%98%80", "%E2%80%AE"].map((v) => [v, `bytes ${v}`, { statuses: [200, 400] }]),
			...LONE_SURROGATES.map((s) => [encodeURIComponentRaw(s), `lone surrogate ${s}`, REJECT]),
		];
	if (spec.kind === "id")
		return BAD_IDS.map(([v, label]) => [
			v,
			label,
			{ reject: label !== "unknown id", statuses: [200, 400, 404] },
		]);
	if (spec.kind === "searchCursor" || spec.kind === "listCursor")
		return [
			["abc", "a cursor never given out", REJECT],
			["1_2_3", "three parts", REJECT],
			["", "empty", { statuses: [200, 400] }],
			["9".repeat(40), "40 digits", REJECT],
			["%00", "NUL", REJECT],
			["9999999999999999999.x", "huge time", { statuses: [200, 400] }],
			["1.%2F", "slash", REJECT],
			["c".repeat(400), "400 chars", REJECT],
		];
	return [];
}

/** `\ud800` as the percent-encoding a browser cannot produce: its CESU-8 bytes. */
function encodeURIComponentRaw(escaped) {
	return escaped.replace(/\\u([0-9a-f]{4})/g, (_, hex) => {
		const code = Number.parseInt(hex, 16);
		return [0xe0 | (code >> 12), 0x80 | ((code >> 6) & 0x3f), 0x80 | (code & 0x3f)]
			.map((b) => `%${b.toString(16).toUpperCase()}`)
			.join("");
	});
}

function queryCases(route, valid) {
	const cases = [];
	for (const [name, spec] of Object.entries(route.query ?? {})) {
		for (const [value, label, expect] of queryValues(spec)) {
			const query = [...valid.query.filter(([k]) => k !== name), [name, value]];
			cases.push(variant(valid, "query", `?${name}= ${label}`, { query, expect }));
		}
		cases.push(
			variant(valid, "query", `?${name} given twice`, {
				query: [...valid.query, [name, "1"], [name, "2"]],
				expect: {},
			}),
			variant(valid, "query", `?${name}[]=`, { query: [...valid.query, [`${name}[]`, "1"]], expect: {} }),
		);
	}
	if (route.query?.after && route.query?.before)
		cases.push(
			variant(valid, "query", "?after and ?before together", {
				query: [...valid.query, ["before", "5"]],
				expect: REJECT,
			}),
		);
	return cases;
}

function mediaCases(valid) {
	const png = Buffer.from("89504e470d0a1a0a0000000d49484452", "hex");
	const cases = [];
	const add = (label, changes, expect) => cases.push(variant(valid, "media", label, { ...changes, expect }));
	add("no Content-Type", { headers: { "content-type": undefined } }, { reject: true, statuses: [415] });
	add(
		"Content-Type text/html",
		{ headers: { "content-type": "text/html" } },
		{ reject: true, statuses: [415] },
	);
	add(
		"Content-Type application/json",
		{ headers: { "content-type": "application/json" } },
		{ reject: true, statuses: [415] },
	);
	add(
		"Content-Type image/svg+xml",
		{ headers: { "content-type": "image/svg+xml" } },
		{ reject: true, statuses: [415] },
	);
	add("Content-Type garbage", { headers: { "content-type": ";;;" } }, { reject: true, statuses: [415] });
	add(
		"text/plain; charset=utf-8 (parameters ignored)",
		{ headers: { "content-type": "text/plain; charset=utf-8" } },
		{ statuses: [201] },
	);
	add(
		"claims image/png, is text",
		{ headers: { "content-type": "image/png" } },
		{ reject: true, statuses: [415] },
	);
	add("claims text/plain, has a NUL", { body: Buffer.from("a\u0000b") }, { reject: true, statuses: [415] });
	add(
		"claims text/plain, invalid UTF-8",
		{ body: Buffer.from([0xff, 0xfe, 0xfd]) },
		{ reject: true, statuses: [415] },
	);
	add("PNG signature only", { headers: { "content-type": "image/png" }, body: png }, {});
	add("empty body", { body: Buffer.alloc(0) }, { reject: true, statuses: [400] });
	add("1.5 MB over a 1 MiB cap", { body: Buffer.alloc(1_500_000, 0x61) }, { reject: true, statuses: [413] });
	// docs/media.md: refused from the Content-Length before a byte of the body is read. Under
	// `wrangler dev` the request only reaches the Worker once its body is complete, so no answer
	// comes while the body is held back: reported as a finding, not a violation.
	add(
		"Content-Length 2 MB declared, 12 bytes sent, body held back",
		{ transport: "raw", declaredLength: 2_000_000, holdBody: true },
		{
			reject: true,
			statuses: [413],
		},
	);
	add("Content-Length shorter than the body", { transport: "raw", declaredLength: 4 }, {});
	add(
		"Content-Length longer than the body, then EOF",
		{ transport: "raw", declaredLength: 500, runtime: "miniflare's entry worker (dev only)" },
		{
			reject: true,
		},
	);
	for (const length of ["abc", "-1", "1e3", "0x10", "99999999999999999999"])
		add(
			`Content-Length ${JSON.stringify(length)}`,
			{ transport: "raw", rawLength: length, runtime: "workerd's HTTP parser" },
			{
				reject: true,
				statuses: [400, 413],
			},
		);
	add(
		"chunked 1.5 MB over the cap",
		{ transport: "raw", chunked: Buffer.alloc(1_500_000, 0x62) },
		{ reject: true, statuses: [413] },
	);
	add("chunked, small", { transport: "raw", chunked: Buffer.from("chunked hello\n") }, { statuses: [201] });
	add("no ?conversationId", { query: [] }, REJECT);
	return cases;
}

function rangeCases(valid, f) {
	const size = f.media.size;
	const cases = [];
	const add = (label, headers, expect) => cases.push(variant(valid, "range", label, { headers, expect }));
	add(
		`Range bytes=${size}- (at the end)`,
		{ range: `bytes=${size}-` },
		{ reject: true, statuses: [416], codes: ["range_not_satisfiable"] },
	);
	add(
		"Range bytes=99999999999999999999-",
		{ range: "bytes=99999999999999999999-" },
		{ reject: true, statuses: [416] },
	);
	add("Range bytes=-0", { range: "bytes=-0" }, { reject: true, statuses: [416] });
	add("Range bytes=0-0", { range: "bytes=0-0" }, { statuses: [206] });
	add("Range bytes=-5", { range: "bytes=-5" }, { statuses: [206] });
	add("Range bytes=5-1 (ignored)", { range: "bytes=5-1" }, { statuses: [200] });
	add("Range bytes=0-1,3-4 (ignored)", { range: "bytes=0-1,3-4" }, { statuses: [200] });
	add("Range items=0-1 (ignored)", { range: "items=0-1" }, { statuses: [200] });
	add("Range garbage", { range: "bytes=abc" }, { statuses: [200] });
	add("Range bytes=0-99999999999999999999", { range: "bytes=0-99999999999999999999" }, { statuses: [206] });
	add("Range bytes=-99999999999999999999", { range: "bytes=-99999999999999999999" }, { statuses: [206] });
	add("If-None-Match garbage", { "if-none-match": '"nope", W/"x", ***' }, { statuses: [200] });
	add("If-None-Match *", { "if-none-match": "*" }, { statuses: [304] });
	return cases;
}

function unknownRouteCases(f) {
	const valid = {
		route: "(no route)",
		method: "GET",
		query: [],
		host: f.a.host,
		headers: { authorization: `Bearer ${f.tokens.owner}` },
		authLabel: "owner token",
	};
	const notFound = { reject: true, statuses: [404] };
	return [
		"/",
		"/v1",
		"/v1/",
		"/v1/nope",
		"/v2/conversations",
		"/platform/v1/nope",
		"/v1/conversations/x/y/z",
		"/v1/admin/nope",
		`/v1/${"x".repeat(8000)}`,
		"/%",
		"/v1/%ED%A0%80",
		"//v1/inbox",
		"/v1/inbox/",
		"/V1/INBOX",
		"/v1/./inbox",
		"/openapi.json",
		"/asyncapi.json",
	].map((path) =>
		variant(valid, "route", `unknown path ${JSON.stringify(path.slice(0, 40))}`, {
			path,
			expect: ["/v1/inbox/", "/v1/./inbox", "/openapi.json", "/asyncapi.json"].includes(path)
				? {}
				: // Under another audience's prefix, the credential is refused before the route is looked up.
					path.startsWith("/platform/") || path.startsWith("/v1/admin/")
					? { reject: true, statuses: [401, 404] }
					: notFound,
		}),
	);
}

/** Every route × every mutation that applies to it; the order is shuffled with the PRNG. */
export function catalogue(f, r) {
	const cases = [];
	for (const route of ROUTES) {
		const valid = validCase(route, f, r);
		cases.push(variant(valid, "control", "the valid request", { expect: { statuses: route.control } }));
		cases.push(...authCases(route, f, valid), ...methodCases(route, valid), ...bodyCases(route, f, r, valid));
		cases.push(...pathCases(route, valid, f), ...queryCases(route, valid));
		if (route.media) cases.push(...mediaCases(valid));
		if (route.route === "GET /v1/media/:id") cases.push(...rangeCases(valid, f));
	}
	cases.push(...unknownRouteCases(f));
	// docs/api.md, Limits: a query string over 4 KiB is a 414, a header over 8 KiB a 431, whatever else
	// the request gets wrong (they are checked first).
	for (const kase of cases) {
		const query = kase.query?.map(([k, v]) => `${k}=${v}`).join("&") ?? "";
		const longHeader = Object.values(kase.headers ?? {}).some(
			(v) => v !== undefined && String(v).length > 8192,
		);
		if (query.length > 4096) kase.expect = { reject: true, statuses: [414], codes: ["query_too_long"] };
		else if (longHeader) kase.expect = { reject: true, statuses: [431], codes: ["headers_too_large"] };
	}
	// A socket route asked over plain HTTP may answer 426 for the missing upgrade once the rest is fine.
	for (const kase of cases)
		if (
			kase.path?.endsWith("/ws") &&
			["path", "access", "query"].includes(kase.category) &&
			kase.expect?.statuses
		)
			kase.expect = {
				...kase.expect,
				statuses: [...new Set([...kase.expect.statuses, 426])],
				...(kase.expect.codes ? { codes: [...kase.expect.codes, "upgrade_required"] } : {}),
			};
	for (let i = cases.length - 1; i > 0; i--) {
		const j = r.int(i + 1);
		[cases[i], cases[j]] = [cases[j], cases[i]];
	}
	return cases;
}
