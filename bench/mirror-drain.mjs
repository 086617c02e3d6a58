// The D1 mirror's drain rate with a backlog of 10,000 messages, through `npm run dev`.
//
// The backlog is built with the mirror's test-only fault switch (D1 "down" for one conversation),
// which exists only when the EDGECHAT_TEST_HOOKS binding is "1", so run the server with it, and on its
// own local state (the script lifts the dev tenant's send rate while it runs):
//
//   EDGECHAT_PERSIST=.wrangler/bench-state PORT=8791 npm run dev -- --var EDGECHAT_TEST_HOOKS:1
//   BASE=http://127.0.0.1:8791 npx node bench/mirror-drain.mjs
//
// Then: fault off, one more message (which makes the mirror due now), and the time until the
// conversation's mirror status reports nothing pending. Prints JSON; asserts no timing.
import { performance } from "node:perf_hooks";

const BASE = process.env.BASE ?? "http://127.0.0.1:8787";
const API_KEY = process.env.DEV_TENANT_API_KEY ?? "dev_tenant_key";
const ADMIN_KEY = process.env.PLATFORM_ADMIN_KEY ?? "dev_admin_key";
const BACKLOG = Number(process.env.BACKLOG ?? 10_000);
const PARALLEL = Number(process.env.PARALLEL ?? 32);
const POLL_MS = 100;

async function call(path, { token, method = "GET", body } = {}) {
	return fetch(`${BASE}${path}`, {
		method,
		headers: {
			...(token ? { authorization: `Bearer ${token}` } : {}),
			...(body === undefined ? {} : { "content-type": "application/json" }),
		},
		body: body === undefined ? undefined : JSON.stringify(body),
	});
}

async function jsonOf(response, status) {
	const text = await response.text();
	if (response.status !== status) throw new Error(`expected ${status}, got ${response.status}: ${text}`);
	return text ? JSON.parse(text) : null;
}

const mirror = async (id) =>
	(await jsonOf(await call(`/v1/admin/conversations/${id}/mirror`, { token: API_KEY }), 200)).mirror;
const fault = async (id, value) => {
	const response = await call(`/v1/admin/test-hooks/conversations/${id}/mirror-fault`, {
		token: API_KEY,
		method: "PUT",
		body: { fault: value },
	});
	if (response.status === 404)
		throw new Error("test hooks are off: start the server with --var EDGECHAT_TEST_HOOKS:1");
	await jsonOf(response, 204);
};

const { tenant } = await jsonOf(await call("/platform/v1/tenants/t_dev", { token: ADMIN_KEY }), 200);
const originalRate = tenant.settings.sendRate;
await jsonOf(
	await call("/platform/v1/tenants/t_dev", {
		token: ADMIN_KEY,
		method: "PATCH",
		body: { settings: { sendRate: { perSecond: 100_000, burst: 100_000 } } },
	}),
	200,
);
// The PATCH clears the tenant cache of the isolate that served it, which under `wrangler dev` is the only one.

try {
	const { token } = await jsonOf(
		await call("/v1/tokens", { token: API_KEY, method: "POST", body: { userId: "bench-mirror" } }),
		201,
	);
	const { conversation } = await jsonOf(
		await call("/v1/conversations", {
			token,
			method: "POST",
			body: { type: "group", title: "mirror bench", memberIds: ["bench-peer"] },
		}),
		201,
	);
	await fault(conversation.id, "down");

	let sent = 0;
	const sendStarted = performance.now();
	async function sender() {
		while (sent < BACKLOG) {
			const i = sent++;
			await jsonOf(
				await call(`/v1/conversations/${conversation.id}/messages`, {
					token,
					method: "POST",
					body: { clientId: `bench-${i}`, text: `backlog message ${i} with a few words to index` },
				}),
				201,
			);
		}
	}
	await Promise.all(Array.from({ length: PARALLEL }, sender));
	const sendSeconds = (performance.now() - sendStarted) / 1000;
	const before = await mirror(conversation.id);

	await fault(conversation.id, null);
	const started = performance.now();
	await jsonOf(
		await call(`/v1/conversations/${conversation.id}/messages`, {
			token,
			method: "POST",
			body: { clientId: "bench-trigger", text: "go" },
		}),
		201,
	);
	let status;
	for (;;) {
		status = await mirror(conversation.id);
		if (status.pendingMessages === 0) break;
		await new Promise((resolve) => setTimeout(resolve, POLL_MS));
	}
	const drainSeconds = (performance.now() - started) / 1000;

	const exportStarted = performance.now();
	// Each answer ends in a trailer; one that is not complete says where the next answer starts.
	let lines = 0;
	for (let query = ""; ; ) {
		const exported = await call(`/v1/admin/conversations/${conversation.id}/export${query}`, {
			token: API_KEY,
		});
		const answer = (await exported.text()).trimEnd().split("\n");
		const trailer = JSON.parse(answer.pop() ?? "{}").export;
		lines += answer.length;
		if (!trailer || trailer.complete) break;
		if (trailer.error) throw new Error(`export failed: ${JSON.stringify(trailer.error)}`);
		query = trailer.next;
	}
	const exportSeconds = (performance.now() - exportStarted) / 1000;
	if (lines !== before.lastSeq + 1)
		throw new Error(`export has ${lines} messages, expected ${before.lastSeq + 1}`);

	console.log(
		JSON.stringify(
			{
				benchmark: "mirror-drain",
				base: BASE,
				backlogRows: before.pendingMessages + 1,
				backlogLagSecondsAtStart: Math.round(before.lagMs / 1000),
				drainSeconds: Number(drainSeconds.toFixed(2)),
				drainRowsPerSecond: Math.round((before.pendingMessages + 1) / drainSeconds),
				pollIntervalMs: POLL_MS,
				backlogBuild: { messages: BACKLOG, seconds: Number(sendSeconds.toFixed(1)), parallel: PARALLEL },
				export: {
					lines,
					seconds: Number(exportSeconds.toFixed(2)),
					linesPerSecond: Math.round(lines / exportSeconds),
				},
			},
			null,
			2,
		),
	);
} finally {
	await call("/platform/v1/tenants/t_dev", {
		token: ADMIN_KEY,
		method: "PATCH",
		body: { settings: { sendRate: originalRate } },
	});
}
