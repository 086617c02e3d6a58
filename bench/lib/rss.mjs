// Resident memory and CPU time of processes, from /proc (Linux only; null elsewhere).
import { readdirSync, readFileSync } from "node:fs";

function status(pid) {
	try {
		return readFileSync(`/proc/${pid}/status`, "utf8");
	} catch {
		return null;
	}
}

function field(text, name) {
	const match = text?.match(new RegExp(`^${name}:\\s+(\\S+)`, "m"));
	return match ? match[1] : null;
}

/** Sum of VmRSS in bytes over the pids; null when none could be read. */
export function rssOf(pids) {
	let total = 0;
	let found = false;
	for (const pid of pids) {
		const kb = field(status(pid), "VmRSS");
		if (kb === null) continue;
		total += Number(kb) * 1024;
		found = true;
	}
	return found ? total : null;
}

/**
 * The workerd processes of the `wrangler dev` that serves `port`: the one whose entry socket is on
 * that port, and its sibling workerd processes (wrangler runs the user worker in a second one).
 * RSS_PIDS (comma-separated) overrides the search.
 */
export function workerdPids(port) {
	if (process.env.RSS_PIDS) return process.env.RSS_PIDS.split(",").map(Number);
	const all = [];
	for (const entry of readdirSync("/proc")) {
		if (!/^\d+$/.test(entry)) continue;
		let cmdline;
		try {
			cmdline = readFileSync(`/proc/${entry}/cmdline`, "utf8").split("\0");
		} catch {
			continue;
		}
		if (!cmdline[0]?.endsWith("/workerd")) continue;
		all.push({ pid: Number(entry), ppid: Number(field(status(entry), "PPid")), cmdline });
	}
	const entry = all.find((p) => p.cmdline.some((arg) => arg.endsWith(`entry=127.0.0.1:${port}`)));
	if (!entry) return [];
	return all.filter((p) => p.ppid === entry.ppid).map((p) => p.pid);
}

/** Sum of user + system CPU time in ms over the pids (clock ticks of 10 ms); null when none could be read. */
export function cpuMsOf(pids) {
	let total = 0;
	let found = false;
	for (const pid of pids) {
		let stat;
		try {
			stat = readFileSync(`/proc/${pid}/stat`, "utf8");
		} catch {
			continue;
		}
		const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
		total += (Number(fields[11]) + Number(fields[12])) * 10; // utime, stime (fields 14, 15)
		found = true;
	}
	return found ? total : null;
}
