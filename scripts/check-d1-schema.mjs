// CI: the drizzle schemas and the D1 migrations agree. For each drizzle config (the directory, and
// the mirror shards' when it exists), `drizzle-kit generate` runs against a copy of its migrations
// folder: a schema change that has no migration makes it write one, and this fails, naming it.
// `drizzle-kit check` also runs on the real folder (a journal and snapshots that agree).
//   node scripts/check-d1-schema.mjs
import { execFileSync } from "node:child_process";
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
const configs = [
	{ config: "drizzle.config.ts", schema: "./src/db/schema.ts", out: "migrations/d1" },
	{ config: "drizzle.mirror.config.ts", schema: "./src/db/mirror-schema.ts", out: "migrations/mirror" },
].filter(({ config }) => existsSync(join(root, config)));

const drizzleKit = join(root, "node_modules", ".bin", "drizzle-kit");
let failed = false;
for (const { config, schema, out } of configs) {
	execFileSync(drizzleKit, ["check", `--config=${config}`], { cwd: root, stdio: "inherit" });
	// drizzle-kit takes --out relative to the working directory, so the copy lives under the repo.
	mkdirSync(join(root, "node_modules", ".cache"), { recursive: true });
	const scratch = mkdtempSync(join(root, "node_modules", ".cache", "d1-schema-"));
	try {
		const copy = join(scratch, "migrations");
		cpSync(join(root, out), copy, { recursive: true });
		const before = new Set(readdirSync(copy));
		const output = execFileSync(
			drizzleKit,
			["generate", "--dialect=sqlite", `--schema=${schema}`, `--out=./${relative(root, copy)}`],
			{ cwd: root, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] },
		);
		const added = readdirSync(copy).filter((name) => !before.has(name));
		if (added.length === 0 && !/No schema changes/.test(output)) {
			// drizzle-kit exits 0 even when it fails: anything but "no changes" is a failure.
			failed = true;
			console.error(`drizzle-kit generate for ${schema} did not run cleanly:\n${output}`);
		} else if (added.length > 0) {
			failed = true;
			console.error(
				`${schema} has changes that ${out} has no migration for (drizzle-kit generate wrote ${added.join(", ")}): run \`npx drizzle-kit generate --config=${config}\``,
			);
		} else {
			console.log(`${schema} and ${out} agree`);
		}
	} finally {
		rmSync(scratch, { recursive: true, force: true });
	}
}
process.exit(failed ? 1 : 0);
