// Fan-out benchmark of issue 2 against a running `npm run dev` (BASE, default http://127.0.0.1:8787).
// It creates its own tenant (platform admin API), lifts the tenant's send rate limit, mints one token
// per user, and for each N creates a group conversation of N members, opens one conversation socket
// per member, and lets member 0 send. Prints one JSON object per (N, phase). See bench/lib/load.mjs.
//
//   npm run dev            # in another terminal
//   npm run bench:fanout   # or: npx node bench/fanout.mjs
import { randomBytes } from "node:crypto";
import { fileURLToPath } from "node:url";
import WebSocket from "ws";
import { adminKey, devApi } from "./lib/dev-api.mjs";
import { runTarget } from "./lib/load.mjs";
import { cpuMsOf, rssOf, workerdPids } from "./lib/rss.mjs";

const base = new URL(process.env.BASE ?? "http://127.0.0.1:8787");
const { agent, request } = devApi(base, 16);

/** A fresh tenant on its own hostname, with the send rate limit lifted so it does not cap the run. */
async function setUpTenant(maxUsers) {
	const admin = adminKey();
	const suffix = randomBytes(4).toString("hex");
	const created = await request("POST", "/platform/v1/tenants", {
		auth: admin,
		body: { name: `bench ${suffix}` },
	});
	const tenantId = created.tenant.id;
	const hostname = `bench-${suffix}.localhost`;
	await request("POST", `/platform/v1/tenants/${tenantId}/domains`, { auth: admin, body: { hostname } });
	await request("PATCH", `/platform/v1/tenants/${tenantId}`, {
		auth: admin,
		body: {
			settings: {
				sendRate: { perSecond: 100_000, burst: 100_000 },
				typingRate: { perSecond: 10, burst: 10 },
			},
		},
	});
	const host = base.port ? `${hostname}:${base.port}` : hostname;
	const tokens = [];
	for (let i = 0; i < maxUsers; i++) {
		const { token } = await request("POST", "/v1/tokens", {
			host,
			auth: created.apiKey,
			body: { userId: `u${i}`, ttlSeconds: 3600 },
		});
		tokens.push(token);
	}
	return { tenantId, host, tokens };
}

export async function edgechatTarget(maxUsers = 100) {
	const { tenantId, host, tokens } = await setUpTenant(maxUsers);
	const wsBase = `ws://${base.hostname}:${base.port || 80}`;
	return {
		name: "edgechat",
		tenantId,
		async rss() {
			// Looked up each time: wrangler restarts the user worker's process when it reloads.
			return rssOf(workerdPids(Number(base.port || 80)));
		},
		async cpuMs() {
			return cpuMsOf(workerdPids(Number(base.port || 80)));
		},
		async room(n) {
			const memberIds = Array.from({ length: n - 1 }, (_, i) => `u${i + 1}`);
			const { conversation } = await request("POST", "/v1/conversations", {
				host,
				auth: tokens[0],
				body: { type: "group", title: `bench N=${n}`, memberIds },
			});
			return {
				open: (i) =>
					new WebSocket(`${wsBase}/v1/conversations/${conversation.id}/ws?token=${tokens[i]}`, {
						headers: { Host: host },
						perMessageDeflate: false,
					}),
			};
		},
	};
}

export async function runFanout({ ns, phases, emit } = {}) {
	const target = await edgechatTarget(Math.max(...(ns ?? [100])));
	try {
		return await runTarget(target, { ns, phases, emit });
	} finally {
		agent.destroy();
	}
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
	const ns = (process.env.NS ?? "2,10,100").split(",").map(Number);
	const phases = (process.env.PHASES ?? "fixed,max").split(",");
	await runFanout({ ns, phases, emit: (result) => console.log(JSON.stringify(result)) });
}
