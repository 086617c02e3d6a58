// Every route of docs/api.md, as the fuzz sees it: a valid request (built from the fixture), the
// kinds of its body fields and query parameters, and the answer the valid request gets. The
// mutators in http-cases.mjs break one thing of a valid request at a time.

/**
 * route: the documented "METHOD path"; audience: platform | tenant | user; path: with {param}
 * placeholders, filled by `params`; body(f, r): a valid JSON body; fields: name → kind of
 * values.mjs FIELD_KINDS; required: fields the schema needs; query: name → {kind, valid};
 * control: statuses the valid request answers.
 */
export const ROUTES = [
	// ── platform (operator) ──
	{
		route: "POST /platform/v1/tenants",
		audience: "platform",
		path: "/platform/v1/tenants",
		body: (_f, r) => ({ name: `fuzz ${r.string(6)}` }),
		fields: { name: "name" },
		required: ["name"],
		control: [201],
	},
	{
		route: "GET /platform/v1/tenants/:id",
		audience: "platform",
		path: "/platform/v1/tenants/{id}",
		params: { id: (f) => f.b.id },
		control: [200],
	},
	{
		route: "PATCH /platform/v1/tenants/:id",
		audience: "platform",
		path: "/platform/v1/tenants/{id}",
		params: { id: (f) => f.b.id },
		body: () => ({ settings: { typingRate: { perSecond: 2, burst: 5 } } }),
		fields: {
			"settings.sendRate": "rate",
			"settings.typingRate": "rate",
			"settings.mediaMaxBytes": "mediaMaxBytes",
			settings: "settings",
		},
		required: ["settings"],
		control: [200],
	},
	{
		route: "POST /platform/v1/tenants/:id/domains",
		audience: "platform",
		path: "/platform/v1/tenants/{id}/domains",
		params: { id: (f) => f.b.id },
		body: (_f, r) => ({ hostname: `fz-${r.string(10)}.test` }),
		fields: { hostname: "hostname" },
		required: ["hostname"],
		control: [201],
	},
	{
		route: "POST /platform/v1/tenants/:id/signing-keys",
		audience: "platform",
		path: "/platform/v1/tenants/{id}/signing-keys",
		params: { id: (f) => f.b.id },
		control: [201],
	},
	{
		route: "DELETE /platform/v1/tenants/:id/signing-keys/:kid",
		audience: "platform",
		path: "/platform/v1/tenants/{id}/signing-keys/{kid}",
		params: { id: (f) => f.b.id, kid: () => "k_fuzz_unknown" },
		control: [204, 404],
	},
	// ── tenant backend ──
	{
		route: "POST /v1/tokens",
		audience: "tenant",
		path: "/v1/tokens",
		body: (_f, r) => ({ userId: `fz-${r.string(8)}`, name: "Fuzz", ttlSeconds: 3600 }),
		fields: { userId: "userId", name: "name", ttlSeconds: "ttl" },
		required: ["userId"],
		control: [201],
	},
	{
		route: "GET /v1/admin/conversations/:id/export",
		audience: "tenant",
		path: "/v1/admin/conversations/{id}/export",
		params: { id: (f) => f.conversations.group },
		control: [200, 404],
	},
	{
		route: "GET /v1/admin/conversations/:id/mirror",
		audience: "tenant",
		path: "/v1/admin/conversations/{id}/mirror",
		params: { id: (f) => f.conversations.group },
		control: [200],
	},
	{
		route: "POST /v1/admin/conversations/:id/media/collect",
		audience: "tenant",
		path: "/v1/admin/conversations/{id}/media/collect",
		params: { id: (f) => f.conversations.collect },
		body: () => ({ olderThanSeconds: 86_400 }),
		fields: { olderThanSeconds: "olderThan" },
		required: [],
		control: [200],
	},
	// ── a tenant's users ──
	{
		route: "POST /v1/conversations",
		audience: "user",
		path: "/v1/conversations",
		body: (f) => ({ type: "group", title: "fuzzed", memberIds: [f.users.member] }),
		fields: { type: "type", title: "name", memberIds: "userIdArray" },
		required: ["type", "memberIds"],
		control: [201],
	},
	{
		route: "POST /v1/conversations (direct)",
		audience: "user",
		path: "/v1/conversations",
		body: (f) => ({ type: "direct", memberIds: [f.users.member] }),
		fields: { memberIds: "directMembers" },
		required: ["type", "memberIds"],
		control: [200, 201],
	},
	{
		route: "GET /v1/conversations/:id",
		audience: "user",
		path: "/v1/conversations/{id}",
		params: { id: (f) => f.conversations.group },
		control: [200],
	},
	{
		route: "POST /v1/conversations/:id/members",
		audience: "user",
		path: "/v1/conversations/{id}/members",
		params: { id: (f) => f.conversations.membership },
		body: (f) => ({ userIds: [f.users.bystander] }),
		fields: { userIds: "userIdArray" },
		required: ["userIds"],
		control: [200],
	},
	{
		route: "DELETE /v1/conversations/:id/members/:userId",
		audience: "user",
		path: "/v1/conversations/{id}/members/{userId}",
		params: { id: (f) => f.conversations.membership, userId: (f) => f.users.bystander },
		control: [204, 404],
	},
	{
		route: "GET /v1/conversations/:id/messages",
		audience: "user",
		path: "/v1/conversations/{id}/messages",
		params: { id: (f) => f.conversations.group },
		query: {
			after: { kind: "number", valid: "0" },
			before: { kind: "number" },
			limit: { kind: "limit", valid: "10", max: 200 },
		},
		control: [200],
	},
	{
		route: "POST /v1/conversations/:id/messages",
		audience: "user",
		path: "/v1/conversations/{id}/messages",
		params: { id: (f) => f.conversations.group },
		body: (_f, r) => ({ clientId: `fz-${r.string(12)}`, text: "fuzz hello" }),
		fields: { clientId: "clientId", text: "text", attachments: "idArray", replyTo: "seq" },
		required: ["clientId"],
		control: [200, 201],
	},
	{
		route: "POST /v1/conversations/:id/read",
		audience: "user",
		path: "/v1/conversations/{id}/read",
		params: { id: (f) => f.conversations.group },
		body: () => ({ seq: 1 }),
		fields: { seq: "seq" },
		required: ["seq"],
		control: [204],
	},
	{
		route: "GET /v1/conversations/:id/ws",
		audience: "user",
		path: "/v1/conversations/{id}/ws",
		params: { id: (f) => f.conversations.group },
		query: { after: { kind: "number", valid: "0" } },
		control: [426],
	},
	{
		route: "GET /v1/conversations",
		audience: "user",
		path: "/v1/conversations",
		query: { cursor: { kind: "listCursor" }, limit: { kind: "limit", valid: "10", max: 100 } },
		control: [200],
	},
	{
		route: "GET /v1/inbox",
		audience: "user",
		path: "/v1/inbox",
		query: { after: { kind: "number", valid: "0" }, limit: { kind: "limit", valid: "10", max: 500 } },
		control: [200],
	},
	{
		route: "POST /v1/inbox/ack",
		audience: "user",
		path: "/v1/inbox/ack",
		body: () => ({ cursor: 0 }),
		fields: { cursor: "seq" },
		required: ["cursor"],
		control: [204],
	},
	{
		route: "GET /v1/inbox/ws",
		audience: "user",
		path: "/v1/inbox/ws",
		control: [426],
	},
	{
		route: "POST /v1/media",
		audience: "user",
		path: "/v1/media",
		query: { conversationId: { kind: "id", valid: (f) => f.conversations.group } },
		media: true,
		control: [201],
	},
	{
		route: "GET /v1/media/:id",
		audience: "user",
		path: "/v1/media/{id}",
		params: { id: (f) => f.media.id },
		control: [200],
	},
	{
		route: "GET /v1/search",
		audience: "user",
		path: "/v1/search",
		query: {
			q: { kind: "q", valid: "hello" },
			conversationId: { kind: "id" },
			limit: { kind: "limit", valid: "5", max: 50 },
			cursor: { kind: "searchCursor" },
		},
		control: [200],
	},
];

/** The methods documented for each path shape (a wrong method is one that is not among them). */
export const METHODS_BY_PATH = (() => {
	const map = new Map();
	for (const r of ROUTES) {
		const [method] = r.route.split(" ");
		map.set(r.path, new Set([...(map.get(r.path) ?? []), method, ...(method === "GET" ? ["HEAD"] : [])]));
	}
	return map;
})();

export const methodOf = (route) => route.route.split(" ")[0];

/** The credential a route's audience takes, as headers, for the fixture `f`. */
export function credential(route, f) {
	if (route.audience === "platform") return { authorization: `Bearer ${f.adminKey}` };
	if (route.audience === "tenant") return { authorization: `Bearer ${f.a.apiKey}` };
	return { authorization: `Bearer ${f.tokens.owner}` };
}

export function fillPath(route, f, override = {}) {
	let path = route.path;
	for (const [name, value] of Object.entries(route.params ?? {}))
		path = path.replace(`{${name}}`, override[name] ?? encodeURIComponent(value(f)));
	return path;
}

export function validQuery(route, f) {
	const params = [];
	for (const [name, spec] of Object.entries(route.query ?? {})) {
		if (spec.valid === undefined) continue;
		const value = typeof spec.valid === "function" ? spec.valid(f) : spec.valid;
		params.push([name, encodeURIComponent(value)]);
	}
	return params;
}
