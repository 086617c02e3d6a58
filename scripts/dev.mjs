// `npm run dev`: everything a fresh clone needs, then `wrangler dev` on http://127.0.0.1:8787.
// 1. .dev.vars from .dev.vars.example when missing; 2. the static assets (scripts/build-assets.mjs);
// 3. the D1 migrations, locally; 4. the dev tenant (hosts localhost and 127.0.0.1, API key
// DEV_TENANT_API_KEY); 5. wrangler dev, D1/R2/DOs embedded.
import { spawn, spawnSync } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";

import { fileURLToPath } from "node:url";
import { buildAssets } from "./build-assets.mjs";

const root = fileURLToPath(new URL("..", import.meta.url));
process.chdir(root);
const wrangler =
	process.platform === "win32" ? "node_modules/.bin/wrangler.cmd" : "node_modules/.bin/wrangler";

if (!existsSync(".dev.vars")) {
	copyFileSync(".dev.vars.example", ".dev.vars");
	console.log("created .dev.vars from .dev.vars.example");
}
const vars = Object.fromEntries(
	readFileSync(".dev.vars", "utf8")
		.split("\n")
		.map((line) => line.trim())
		.filter((line) => line && !line.startsWith("#") && line.includes("="))
		.map((line) => [line.slice(0, line.indexOf("=")).trim(), line.slice(line.indexOf("=") + 1).trim()]),
);
const apiKey = vars.DEV_TENANT_API_KEY;
if (!apiKey) {
	console.error("DEV_TENANT_API_KEY is missing from .dev.vars");
	process.exit(1);
}

buildAssets();

// EDGECHAT_PERSIST puts the local D1/R2/DO state in another folder (the browser tests use a fresh one).
const persist = process.env.EDGECHAT_PERSIST ? ["--persist-to", process.env.EDGECHAT_PERSIST] : [];

function run(args) {
	const result = spawnSync(wrangler, args, {
		stdio: ["ignore", "pipe", "inherit"],
		env: { ...process.env, CI: "true" },
	});
	if (result.status !== 0) {
		process.stdout.write(result.stdout);
		console.error(`wrangler ${args.join(" ")} failed`);
		process.exit(result.status ?? 1);
	}
}

run(["d1", "migrations", "apply", "DB", "--local", ...persist]);
console.log("D1 migrations applied locally");

const sqlString = (value) => `'${String(value).replaceAll("'", "''")}'`;
const now = Date.now();
const keyHash = createHash("sha256").update(apiKey).digest("hex");
const secret = randomBytes(32).toString("base64url");
const sql = `
INSERT INTO tenants (id, name, settings, created_at) VALUES ('t_dev', 'Development tenant', '{}', ${now})
  ON CONFLICT (id) DO NOTHING;
INSERT INTO tenant_domains (hostname, tenant_id, created_at) VALUES ('localhost', 't_dev', ${now}), ('127.0.0.1', 't_dev', ${now})
  ON CONFLICT (hostname) DO UPDATE SET tenant_id = 't_dev';
UPDATE api_keys SET revoked_at = ${now} WHERE tenant_id = 't_dev' AND key_hash <> ${sqlString(keyHash)} AND revoked_at IS NULL;
INSERT INTO api_keys (id, tenant_id, key_hash, created_at) VALUES ('ak_dev_${keyHash.slice(0, 12)}', 't_dev', ${sqlString(keyHash)}, ${now})
  ON CONFLICT (key_hash) DO UPDATE SET revoked_at = NULL;
INSERT INTO signing_keys (kid, tenant_id, secret, created_at)
  SELECT 'k_dev', 't_dev', ${sqlString(secret)}, ${now}
  WHERE NOT EXISTS (SELECT 1 FROM signing_keys WHERE tenant_id = 't_dev' AND revoked_at IS NULL);
`;
mkdirSync(".wrangler", { recursive: true });
writeFileSync(".wrangler/dev-tenant.sql", sql);
run(["d1", "execute", "DB", "--local", ...persist, "--file", ".wrangler/dev-tenant.sql"]);
console.log("dev tenant t_dev ready: hosts localhost and 127.0.0.1, API key from DEV_TENANT_API_KEY");

// wrangler dev records a trace of every request, message and alarm in a local SQLite store for its
// explorer; measured (docs/benchmarks.md), that store took half of the dev server's disk writes and a
// third of its fsyncs under chat load, and nothing like it runs in production. Off unless asked for:
// X_LOCAL_OBSERVABILITY=true npm run dev.
const devEnv = { ...process.env, X_LOCAL_OBSERVABILITY: process.env.X_LOCAL_OBSERVABILITY ?? "false" };
const dev = spawn(
	wrangler,
	["dev", "--ip", "127.0.0.1", "--port", process.env.PORT ?? "8787", ...persist, ...process.argv.slice(2)],
	{ stdio: "inherit", env: devEnv },
);
for (const signal of ["SIGINT", "SIGTERM"]) process.on(signal, () => dev.kill(signal));
dev.on("exit", (code) => process.exit(code ?? 0));
