// Starts `npm run dev` (scripts/dev.mjs) as a child with its own local state, for the browser tests
// and the benchmarks: a fresh server, on a port of the caller's choosing, stopped with its workerd.
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));

/**
 * A port for one test file's server: EDGECHAT_E2E_PORT + offset when that is set (to keep a run
 * inside a range of ports), else a pair derived from the process id, so parallel runs rarely meet.
 */
export function testPort(offset = 0) {
	const base = Number(process.env.EDGECHAT_E2E_PORT) || 8900 + (process.pid % 45) * 2;
	return base + offset;
}

/**
 * Resolves once the server says "Ready on"; `persist` defaults to a new temporary folder; `args` go to
 * `wrangler dev` (the benchmarks pass `--inspector-port` so that they do not collide with another
 * engineer's dev server on wrangler's default 9229).
 */
export async function startDevServer({
	port,
	persist = mkdtempSync(join(tmpdir(), "edgechat-dev-")),
	timeoutMs = 120_000,
	args = [],
}) {
	const child = spawn(process.execPath, ["scripts/dev.mjs", ...args], {
		cwd: root,
		env: { ...process.env, PORT: String(port), EDGECHAT_PERSIST: persist },
		stdio: ["ignore", "pipe", "pipe"],
		detached: true, // its own process group, so stop() ends wrangler and workerd too
	});
	let output = "";
	await new Promise((resolve, reject) => {
		const timer = setTimeout(() => reject(new Error(`dev server did not start:\n${output}`)), timeoutMs);
		const onData = (chunk) => {
			output += chunk;
			if (output.includes("Ready on")) {
				clearTimeout(timer);
				resolve();
			}
		};
		child.stdout.on("data", onData);
		child.stderr.on("data", onData);
		child.on("exit", (code) => reject(new Error(`dev server exited with ${code}:\n${output}`)));
	});
	return {
		persist,
		async stop({ keepState = false } = {}) {
			if (child.exitCode === null) {
				const exited = new Promise((resolve) => child.once("exit", resolve));
				process.kill(-child.pid, "SIGTERM");
				await exited;
			}
			if (!keepState) rmSync(persist, { recursive: true, force: true });
		},
	};
}
