// Adds lockfile entries for optional platform binaries that the registry this project is installed
// from does not serve (for example biome's and workerd's macOS and Windows builds). npm install
// leaves them out when it cannot fetch them, and `npm ci` then refuses the lockfile as out of sync.
// An entry with `os`/`cpu` set is skipped on every other platform without being fetched.
// Run after any `npm install` that rewrites package-lock.json: `node scripts/lock-platforms.mjs`.
import { readFileSync, writeFileSync } from "node:fs";

const path = new URL("../package-lock.json", import.meta.url);
const lock = JSON.parse(readFileSync(path, "utf8"));
const packages = lock.packages;

const osNames = {
	darwin: "darwin",
	linux: "linux",
	win32: "win32",
	windows: "win32",
	android: "android",
	freebsd: "freebsd",
};
const cpuNames = { x64: "x64", 64: "x64", arm64: "arm64", arm: "arm", ia32: "ia32" };

function platformOf(name) {
	const parts = name.split("/").pop().split("-");
	const os = parts.map((p) => osNames[p]).find(Boolean);
	const cpu = parts.map((p) => cpuNames[p]).find(Boolean);
	const libc = parts.includes("musl") ? "musl" : os === "linux" ? "glibc" : undefined;
	return { os, cpu, libc };
}

let added = 0;
for (const [key, entry] of Object.entries(packages)) {
	for (const [dep, version] of Object.entries(entry.optionalDependencies ?? {})) {
		const depKey = `node_modules/${dep}`;
		if (packages[depKey]) continue;
		const { os, cpu, libc } = platformOf(dep);
		if (!os || !cpu) continue;
		packages[depKey] = {
			version,
			...(entry.dev ? { dev: true } : {}),
			optional: true,
			os: [os],
			cpu: [cpu],
			...(libc ? { libc: [libc] } : {}),
		};
		added++;
		console.log(`added ${depKey}@${version} (${os}/${cpu}) for ${key}`);
	}
}
lock.packages = Object.fromEntries(
	Object.entries(packages).sort(([a], [b]) => (a === "" ? -1 : b === "" ? 1 : a.localeCompare(b))),
);
writeFileSync(path, `${JSON.stringify(lock, null, 2)}\n`);
console.log(`${added} platform entries added`);
