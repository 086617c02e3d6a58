// A `npm run dev` server (scripts/dev.mjs) as a child that can be crashed: SIGKILL to its whole
// process group (node, wrangler and both workerd processes), then started again on the same
// persist folder, as a machine that loses power and reboots would. scripts/dev-server.mjs stops its
// server politely (SIGTERM); the chaos test and the fuzz run need the impolite kind as well.
import { spawn } from "node:child_process";
import { mkdtempSync } from "node:fs";
import net from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("../..", import.meta.url));
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

function portIsFree(port) {
	return new Promise((resolve) => {
		const probe = net.createServer();
		probe.once("error", () => resolve(false));
		probe.listen(port, "127.0.0.1", () => probe.close(() => resolve(true)));
	});
}

/** The first free port of [low, high], starting at an offset derived from the pid (other engineers share the range). */
export async function freePort(low, high) {
	const span = high - low + 1;
	for (let i = 0; i < span; i++) {
		const port = low + ((process.pid + i) % span);
		if (await portIsFree(port)) return port;
	}
	throw new Error(`no free port in ${low}-${high}`);
}

export function tempPersist(prefix) {
	return mkdtempSync(join(tmpdir(), prefix));
}

/**
 * Starts the dev server and resolves once it answers HTTP (not only once wrangler says "Ready on").
 * `args` go to `wrangler dev` (e.g. ["--var", "EDGECHAT_TEST_HOOKS:1"]).
 */
export async function startServer({ port, persist, args = [], timeoutMs = 120_000 }) {
	const child = spawn(process.execPath, ["scripts/dev.mjs", ...args], {
		cwd: root,
		env: { ...process.env, PORT: String(port), EDGECHAT_PERSIST: persist },
		stdio: ["ignore", "pipe", "pipe"],
		detached: true, // its own process group: one kill reaches wrangler and workerd too
	});
	let output = "";
	const onData = (chunk) => {
		output += chunk;
		if (output.length > 400_000) output = output.slice(-200_000);
	};
	child.stdout.on("data", onData);
	child.stderr.on("data", onData);
	const exited = new Promise((resolve) => child.once("exit", resolve));
	const deadline = Date.now() + timeoutMs;
	while (!output.includes("Ready on")) {
		if (child.exitCode !== null) throw new Error(`dev server exited with ${child.exitCode}:\n${output}`);
		if (Date.now() > deadline) {
			process.kill(-child.pid, "SIGKILL");
			throw new Error(`dev server did not start within ${timeoutMs} ms:\n${output}`);
		}
		await sleep(100);
	}
	// "Ready on" comes from wrangler's proxy; wait until the Worker itself answers.
	while (!(await answers(port))) {
		if (Date.now() > deadline) throw new Error(`dev server never answered:\n${output}`);
		await sleep(200);
	}
	return {
		port,
		persist,
		base: `http://127.0.0.1:${port}`,
		pid: child.pid,
		/** Everything the server printed (the last ~200 KB). */
		output: () => output,
		/** Kills the process group with `signal` and waits until the top process has exited. */
		async kill(signal = "SIGKILL") {
			if (child.exitCode === null && child.signalCode === null) {
				try {
					process.kill(-child.pid, signal);
				} catch {}
				await exited;
			}
			// workerd may outlive its parent by a moment; the port is free once it has gone.
			for (let i = 0; i < 100 && !(await portIsFree(port)); i++) await sleep(100);
		},
	};
}

function answers(port) {
	return new Promise((resolve) => {
		const socket = net.connect(port, "127.0.0.1");
		let data = "";
		socket.setTimeout(5_000, () => {
			socket.destroy();
			resolve(false);
		});
		socket.on("error", () => resolve(false));
		socket.on("data", (chunk) => {
			data += chunk;
			if (data.includes("\r\n\r\n")) {
				socket.destroy();
				resolve(/^HTTP\/1\.1 [1-4]\d\d/.test(data));
			}
		});
		socket.on("connect", () =>
			socket.write("GET /v1/ HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"),
		);
	});
}
