// The two workerd processes of a `wrangler dev` (Linux /proc only), seen from outside:
// - the entry proxy, whose socket is the dev server's public port (it relays every request and frame);
// - the user worker's runtime (`--socket-addr=entry=127.0.0.1:0 --inspector-addr=… --debug-port=…`),
//   which runs the Worker and every Durable Object on one thread.
// Its listening sockets, in the order workerd opens them (ascending fd): the entry socket, the V8
// inspector, the debug port (Cap'n Proto: never send it HTTP, it logs "incoming RPC message exceeds
// size limit"). DIRECT=1 in the benchmarks connects clients to that entry socket, bypassing the proxy,
// which only local development has (one socket costs the proxy two file descriptors, and the machine's
// limit is 20,000); ENTRY_PORT and INSPECTOR_URL override the discovery.
import { readdirSync, readFileSync, readlinkSync } from "node:fs";
import http from "node:http";
import { workerdPids } from "./rss.mjs";

function cmdline(pid) {
	try {
		return readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0");
	} catch {
		return [];
	}
}

/** The pid of the workerd that runs the user worker of the dev server on `port`, or null. */
export function userWorkerdPid(port) {
	return (
		workerdPids(port).find((pid) => cmdline(pid).some((arg) => arg.startsWith("--inspector-addr"))) ?? null
	);
}

/** The TCP ports `pid` listens on, ordered by the fd that holds them. */
export function listeningPorts(pid) {
	const portByInode = new Map();
	for (const file of ["tcp", "tcp6"]) {
		let text = "";
		try {
			text = readFileSync(`/proc/${pid}/net/${file}`, "utf8");
		} catch {
			continue;
		}
		for (const line of text.split("\n").slice(1)) {
			const cols = line.trim().split(/\s+/);
			if (cols[3] !== "0A") continue; // LISTEN
			portByInode.set(cols[9], Number.parseInt(cols[1].split(":")[1], 16));
		}
	}
	const found = [];
	let fds = [];
	try {
		fds = readdirSync(`/proc/${pid}/fd`);
	} catch {
		return [];
	}
	for (const fd of fds) {
		let target;
		try {
			target = readlinkSync(`/proc/${pid}/fd/${fd}`);
		} catch {
			continue;
		}
		const inode = target.match(/^socket:\[(\d+)\]$/)?.[1];
		if (inode && portByInode.has(inode)) found.push({ fd: Number(fd), port: portByInode.get(inode) });
	}
	found.sort((a, b) => a.fd - b.fd);
	return [...new Set(found.map((f) => f.port))];
}

function getJson(port, path) {
	return new Promise((resolve) => {
		const req = http.get({ host: "127.0.0.1", port, path, timeout: 2000 }, (res) => {
			let text = "";
			res.setEncoding("utf8");
			res.on("data", (c) => {
				text += c;
			});
			res.on("end", () => {
				try {
					resolve(JSON.parse(text));
				} catch {
					resolve(null);
				}
			});
		});
		req.on("timeout", () => req.destroy());
		req.on("error", () => resolve(null));
	});
}

/**
 * The user worker's entry port and its inspector's WebSocket URL (target `core:user:<name>`), for the
 * dev server on `port`; fields are null when they could not be found.
 */
export async function discoverUserWorker(port, workerName = "edgechat") {
	const pid = userWorkerdPid(port);
	const result = {
		pid,
		entryPort: process.env.ENTRY_PORT ? Number(process.env.ENTRY_PORT) : null,
		inspectorUrl: process.env.INSPECTOR_URL ?? null,
	};
	if (pid === null) return result;
	// The last listening socket is the debug port; only the first two are probed over HTTP.
	const [first, second] = listeningPorts(pid);
	for (const candidate of [first, second]) {
		if (candidate === undefined) continue;
		const version = await getJson(candidate, "/json/version");
		if (version?.Browser === "workerd") {
			const targets = (await getJson(candidate, "/json")) ?? [];
			const target = targets.find((t) => t.id === `core:user:${workerName}`);
			result.inspectorUrl ??= target?.webSocketDebuggerUrl ?? null;
		} else {
			result.entryPort ??= candidate;
		}
	}
	return result;
}

/**
 * Sends the dev server on `port` one cheap request (a path no route has), so that its isolate runs:
 * the inspector's `poke` (see inspector.mjs). Resolves either way.
 */
export function pokeWorker(port) {
	return new Promise((resolve) => {
		const req = http.get({ host: "127.0.0.1", port, path: "/__bench/poke", timeout: 2000 }, (res) => {
			res.resume();
			res.on("end", resolve);
		});
		req.on("timeout", () => req.destroy());
		req.on("error", resolve);
	});
}
