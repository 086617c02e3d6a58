// JSON over HTTP to a dev server, for the benchmarks: the platform admin key from .dev.vars, and
// requests with an explicit Host (the tenant is resolved from it) sent to BASE's address.
import { existsSync, readFileSync } from "node:fs";
import http from "node:http";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("../..", import.meta.url));

export function adminKey() {
	if (process.env.PLATFORM_ADMIN_KEY) return process.env.PLATFORM_ADMIN_KEY;
	const file = `${root}.dev.vars`;
	if (existsSync(file)) {
		const line = readFileSync(file, "utf8")
			.split("\n")
			.find((l) => l.trim().startsWith("PLATFORM_ADMIN_KEY="));
		if (line) return line.slice(line.indexOf("=") + 1).trim();
	}
	return "dev_admin_key";
}

/** A `request(method, path, {host, auth, body})` bound to `base`; `agent.destroy()` when done. */
export function devApi(base, maxSockets = 16) {
	const agent = new http.Agent({ keepAlive: true, maxSockets });
	function request(method, path, { host = base.host, auth, body } = {}) {
		return new Promise((resolve, reject) => {
			const data = body === undefined ? undefined : JSON.stringify(body);
			const req = http.request(
				{
					agent,
					host: base.hostname,
					port: base.port || 80,
					method,
					path,
					headers: {
						Host: host,
						...(auth ? { Authorization: `Bearer ${auth}` } : {}),
						...(data
							? { "Content-Type": "application/json", "Content-Length": Buffer.byteLength(data) }
							: {}),
					},
				},
				(res) => {
					let text = "";
					res.setEncoding("utf8");
					res.on("data", (chunk) => {
						text += chunk;
					});
					res.on("end", () => {
						if (res.statusCode >= 300)
							reject(new Error(`${method} ${path} → ${res.statusCode} ${text.slice(0, 300)}`));
						else resolve(text ? JSON.parse(text) : null);
					});
				},
			);
			req.on("error", reject);
			req.end(data);
		});
	}
	return { agent, request };
}
