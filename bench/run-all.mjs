// Runs the baseline (plain Node `ws`) and the edgechat fan-out benchmark RUNS times each (default 2,
// alternating), prints every result as a JSON line, then a Markdown table of the best run of each
// (target, N, phase) — the highest msgs/s for "max", the lowest loss then p50 for "fixed" — with the
// spread across runs, since the figures are noisy on a shared machine.
//
//   npm run dev      # in another terminal (serves http://127.0.0.1:8787)
//   npm run bench    # or: npx node bench/run-all.mjs ; env: RUNS, NS, PHASES, WINDOW, BASE, OUT, FRESH
//   FRESH=1 npm run bench   # no dev server needed: one is started, with empty state, per N
import { writeFileSync } from "node:fs";
import os from "node:os";
import { startDevServer } from "../scripts/dev-server.mjs";
import { runBaseline } from "./baseline-ws.mjs";
import { runFanout } from "./fanout.mjs";

const runs = Number(process.env.RUNS ?? 2);
const ns = (process.env.NS ?? "2,10,100").split(",").map(Number);
const phases = (process.env.PHASES ?? "fixed,max").split(",");
const all = [];
const emit = (result) => {
	all.push(result);
	console.log(JSON.stringify(result));
};

// FRESH=1: this script starts its own dev server, a new one with empty state for every (N, phase) of
// every run, on BASE's port (so nothing else may be serving there). A dev server that has already
// carried a busy 100-member room sustains about half the rate in the next one (docs/benchmarks.md).
const fresh = process.env.FRESH === "1";
const port = new URL(process.env.BASE ?? "http://127.0.0.1:8787").port || "8787";

for (let run = 1; run <= runs; run++) {
	console.error(`run ${run}/${runs}: baseline-ws`);
	await runBaseline({ ns, phases, emit: (r) => emit({ run, ...r }) });
	console.error(`run ${run}/${runs}: edgechat${fresh ? " (a fresh dev server per N)" : ""}`);
	if (!fresh) {
		await runFanout({ ns, phases, emit: (r) => emit({ run, ...r }) });
		continue;
	}
	for (const n of ns) {
		for (const phase of phases) {
			const server = await startDevServer({ port });
			try {
				await runFanout({ ns: [n], phases: [phase], emit: (r) => emit({ run, ...r }) });
			} finally {
				await server.stop();
			}
		}
	}
}
if (process.env.OUT) writeFileSync(process.env.OUT, `${all.map((r) => JSON.stringify(r)).join("\n")}\n`);

function better(a, b) {
	if (a.phase === "max") return b.msgsPerSec > a.msgsPerSec ? b : a;
	if (b.lost !== a.lost) return b.lost < a.lost ? b : a;
	return b.latencyMs.p50 < a.latencyMs.p50 ? b : a;
}
const groups = new Map();
for (const r of all) {
	if (r.error) continue;
	const key = `${r.target}|${r.n}|${r.phase}`;
	const group = groups.get(key) ?? [];
	group.push(r);
	groups.set(key, group);
}
const fmt = (x) => (x === null || x === undefined ? "–" : String(x));
const range = (values) => {
	const lo = Math.min(...values);
	const hi = Math.max(...values);
	return lo === hi ? fmt(lo) : `${lo}–${hi}`;
};
console.log(
	`\n${os.cpus().length} CPUs (${os.cpus()[0]?.model ?? "?"}), Node ${process.version}, ${runs} run(s)\n`,
);
console.log(
	"| target | N | phase | msgs/s | deliveries/s | p50 ms | p99 ms | loss | dup | connect p50/p99 ms | RSS MiB before→after | msgs/s, p50 over runs |",
);
console.log("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |");
const failures = all.filter((r) => r.error);
for (const group of groups.values()) {
	const r = group.reduce(better);
	const phase = r.phase === "fixed" ? `${r.rate}/s × ${r.messages}` : `max (window ${r.window})`;
	console.log(
		`| ${r.target} | ${r.n} | ${phase} | ${r.msgsPerSec} | ${r.deliveriesPerSec} | ${r.latencyMs.p50} | ${r.latencyMs.p99} | ${r.lost} | ${r.dup} | ${r.connectMs.p50} / ${r.connectMs.p99} | ${fmt(r.rssMiB.before)} → ${fmt(r.rssMiB.after)} | ${range(group.map((g) => g.msgsPerSec))}, ${range(group.map((g) => g.latencyMs.p50))} |`,
	);
}
if (failures.length > 0) {
	console.log(`\n${failures.length} phase(s) failed and are left out of the table:`);
	for (const f of failures) console.log(`- run ${f.run} ${f.target} N=${f.n} ${f.phase}: ${f.error}`);
}
