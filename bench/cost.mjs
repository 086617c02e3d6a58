// The cost of a message (issue 13): runs each benchmark of the issue and prints one Markdown table
// with the issue's aims beside the measured figures. It prints figures and compares them with the
// aims; it asserts nothing (a missed aim does not fail the run).
//
//   rooms    bench/rooms.mjs       200 rooms × 5 at 50 and 200 msg/s
//   large    bench/rooms.mjs       1,000 rooms × 5 at 500 msg/s: how far it gets
//   fanout   bench/fanout.mjs      one room of 100 at 100 msg/s, and at max rate
//   idle     bench/idle.mjs        10,000 idle sockets over 1,000 rooms; hibernation and wake-up
//   catchup  bench/catch-up.mjs    10,000 missed messages over 100 conversations, over the inbox socket
//   demo     bench/baseline-chat-demo.mjs   the rooms load on Cloudflare's chat demo, if DEMO_BASE is set
//
//   FRESH=1 npx node bench/cost.mjs   # a fresh dev server (empty state) per benchmark, on BASE's port
//   npx node bench/cost.mjs           # against `npm run dev` on BASE (default http://127.0.0.1:8787)
//   SMOKE=1 ...                       # every configuration shrunk to run in a few minutes (figures labelled)
//   env: BASE FRESH SMOKE ONLY=rooms,large,fanout,idle,catchup,demo DEMO_BASE OUT, and each
//        benchmark's own (SECONDS, CONNECT_CONCURRENCY, DIRECT, INSPECT, …); JSON lines go to stdout
//        as they come, the table last.
import { writeFileSync } from "node:fs";
import os from "node:os";
import { startDevServer } from "../scripts/dev-server.mjs";
import { runChatDemo } from "./baseline-chat-demo.mjs";
import { runCatchUp } from "./catch-up.mjs";
import { runIdle } from "./idle.mjs";
import { runRooms } from "./rooms.mjs";

const env = (name, fallback) => process.env[name] ?? fallback;
const base = new URL(env("BASE", "http://127.0.0.1:8787"));
const port = Number(base.port || 8787);
const fresh = env("FRESH", "0") === "1";
const smoke = env("SMOKE", "0") === "1";
const only = new Set(env("ONLY", "rooms,large,fanout,idle,catchup,demo").split(","));
const all = [];
const emit = (result) => {
	all.push(result);
	console.log(JSON.stringify(result));
};

// The issue's configurations, and the smoke versions of them.
const config = {
	rooms: { rooms: 200, members: 5, rates: [50, 200], seconds: Number(env("SECONDS", smoke ? 5 : 30)) },
	large: {
		rooms: smoke ? 300 : 1000,
		members: 5,
		rates: [500],
		seconds: Number(env("SECONDS", smoke ? 5 : 30)),
	},
	idle: smoke
		? { rooms: 100, members: 10, idleSeconds: 20, gaps: [3, 9, 12, 16], probeRooms: 2, awakeRooms: 50 }
		: {
				rooms: 1000,
				members: 10,
				idleSeconds: 30,
				gaps: [3, 6, 9, 12, 15, 20, 30],
				probeRooms: 3,
				awakeRooms: 100,
			},
	catchup: smoke
		? { messages: 1500, conversations: 100, rate: 100 }
		: { messages: 10_000, conversations: 100, rate: 100 },
};

async function onServer(run) {
	if (!fresh) return run();
	const server = await startDevServer({ port, args: ["--inspector-port", String(port + 1)] });
	try {
		return await run();
	} finally {
		await server.stop();
	}
}

async function step(name, run) {
	if (!only.has(name)) return;
	console.error(`── ${name}`);
	try {
		await run();
	} catch (error) {
		emit({ bench: name, error: String(error?.message ?? error) });
	}
}

await step("rooms", () => onServer(() => runRooms({ base, ...config.rooms, emit })));
await step("large", () =>
	onServer(() => runRooms({ base, ...config.large, emit: (r) => emit({ ...r, bench: "rooms-large" }) })),
);
await step("fanout", async () => {
	// fanout.mjs reads BASE when it is loaded; a fresh server per phase, as run-all.mjs does.
	const { runFanout } = await import("./fanout.mjs");
	for (const phase of ["fixed", "max"]) await onServer(() => runFanout({ ns: [100], phases: [phase], emit }));
});
await step("idle", () => onServer(() => runIdle({ base, ...config.idle, emit })));
await step("catchup", () => onServer(async () => emit(await runCatchUp({ base, ...config.catchup }))));
await step("demo", async () => {
	if (!process.env.DEMO_BASE) return;
	await runChatDemo({ ...config.rooms, emit: (r) => emit({ ...r, bench: "demo" }) });
});
if (process.env.OUT) writeFileSync(process.env.OUT, `${all.map((r) => JSON.stringify(r)).join("\n")}\n`);

// ── the table ─────────────────────────────────────────────────────────────────────────────────────
const n = (x) =>
	x === null || x === undefined ? "–" : typeof x === "number" ? x.toLocaleString("en") : String(x);
const verdict = (ok) => (ok === null ? "" : ok ? "**met**" : "**not met**");
const phaseOf = (bench, rate) => all.find((r) => r.bench === bench && r.step === "phase" && r.rate === rate);
const setupOf = (bench) => all.find((r) => r.bench === bench && r.step === "setup");
const historyOf = (bench) => all.find((r) => r.bench === bench && r.step === "history");
const rows = [];

function roomsRow(step, bench, rate, aim, p50Aim, p99Aim) {
	if (!only.has(step)) return;
	const r = phaseOf(bench, rate);
	const setup = setupOf(bench);
	const history = historyOf(bench);
	if (!r) {
		const failed = all.find((x) => x.bench === step && x.error);
		rows.push([aim, "–", failed ? `failed: ${failed.error}` : "not run", ""]);
		return;
	}
	const measured = [
		`${n(r.achievedRate)} msg/s achieved (sent ${n(r.sendRate)}/s${r.stoppedBehindAt === null ? "" : `; fell behind: stopped sending at ${r.stoppedBehindAt} s`})`,
		`p50 ${n(r.latencyMs.p50)} / p99 ${n(r.latencyMs.p99)} ms to every other member`,
		`lost ${n(r.lostDeliveries)}, dup ${n(r.dup)}, reordered ${n(r.reordered)}, errors ${n(r.errors + (r.unattributedErrors ?? 0))}`,
		`stored with the broadcast seq: ${history ? `${n(history.checked - (history.missing ?? 0) - (history.seqMismatch ?? 0))}/${n(history.checked)} sampled` : "–"}`,
		`server CPU ${n(r.cpuMsPerMessage.server)} ms/msg, RSS ${n(r.rssMiB.before)} → ${n(r.rssMiB.after)} MiB`,
		setup
			? `connect ${n(setup.connect.sockets)} sockets p50 ${n(setup.connect.p50)} / p99 ${n(setup.connect.p99)} ms, ${n(setup.connect.totalMs)} ms in all`
			: "",
	]
		.filter(Boolean)
		.join("; ");
	const ok =
		p50Aim === null
			? null
			: r.latencyMs.p50 !== null &&
				r.latencyMs.p50 <= p50Aim &&
				r.latencyMs.p99 <= p99Aim &&
				r.lostDeliveries === 0 &&
				r.achievedRate >= 0.95 * r.rate;
	rows.push([aim, `${r.rooms} × ${r.members}, ${r.rate} msg/s × ${r.seconds} s`, measured, verdict(ok)]);
}

roomsRow("rooms", "rooms", 50, "rooms 200 × 5 at 50 msg/s: p50 ≤ 10 ms, p99 ≤ 50 ms, zero loss", 10, 50);
roomsRow("rooms", "rooms", 200, "rooms 200 × 5 at 200 msg/s: p50 ≤ 20 ms, p99 ≤ 200 ms, zero loss", 20, 200);
roomsRow("large", "rooms-large", 500, "1,000 rooms × 5 at 500 msg/s: say how far it gets", null, null);

const fixed = all.find((r) => r.target === "edgechat" && r.n === 100 && r.phase === "fixed");
const max = all.find((r) => r.target === "edgechat" && r.n === 100 && r.phase === "max");
if (only.has("fanout")) {
	rows.push([
		"one room of 100 at 100 msg/s: p50 ≤ 4 ms, p99 ≤ 25 ms",
		"bench/fanout.mjs N = 100, 100 msg/s × 1,000",
		fixed
			? `${n(fixed.msgsPerSec)} msg/s, p50 ${n(fixed.latencyMs.p50)} / p99 ${n(fixed.latencyMs.p99)} ms, lost ${n(fixed.lost)}, dup ${n(fixed.dup)}, server CPU ${n(fixed.cpuMsPerMessage?.server)} ms/msg`
			: "not run or failed",
		fixed ? verdict(fixed.latencyMs.p50 <= 4 && fixed.latencyMs.p99 <= 25 && fixed.lost === 0) : "",
	]);
	rows.push([
		"one room of 100: ≥ 600 msg/s at max rate",
		`bench/fanout.mjs N = 100, window ${max?.window ?? "–"}`,
		max
			? `${n(max.msgsPerSec)} msg/s (${n(max.deliveriesPerSec)} deliveries/s), p50 ${n(max.latencyMs.p50)} / p99 ${n(max.latencyMs.p99)} ms, lost ${n(max.lost)}`
			: "not run or failed",
		max ? verdict(max.msgsPerSec >= 600 && max.lost === 0) : "",
	]);
}

const idleConnected = all.find((r) => r.bench === "idle" && r.step === "connected");
const idle = all.find((r) => r.bench === "idle" && r.step === "idle");
if (only.has("idle")) {
	const evicted = idle?.probes.filter((p) => p.constructedAgain > 0).map((p) => p.idleSeconds) ?? [];
	const kept = idle?.probes.filter((p) => p.constructedAgain === 0).map((p) => p.idleSeconds) ?? [];
	rows.push([
		"10,000 idle sockets over 1,000 rooms: memory, and the rooms hibernate",
		idleConnected
			? `${n(idleConnected.rooms)} × ${n(idleConnected.members)} sockets, ${idle?.idleSeconds ?? "–"} s idle`
			: "–",
		idle
			? [
					`connect ${n(idleConnected.connect.sockets)} sockets (${n(idleConnected.connect.failed)} failed) p50 ${n(idleConnected.connect.p50)} / p99 ${n(idleConnected.connect.p99)} ms, ${n(idleConnected.connect.totalMs)} ms in all`,
					`RSS ${n(idle.rssMiB.beforeRooms)} → ${n(idle.rssMiB.connected)} MiB connected, ${n(idle.rssMiB.asleep)} MiB asleep (${n(idle.perRoom.rssKiBPerSocketAsleep)} KiB per socket); V8 heap ${n(idle.heapMiB.beforeRooms)} → ${n(idle.heapMiB.asleep)} MiB asleep, ${n(idle.perRoom.heapKiBAwake)} KiB per awake room`,
					`closed by the server while idle: ${n(idle.closedSockets)}`,
					idle.probes[0]?.constructedAgain === null
						? "constructors not observed (no inspector)"
						: `constructed again after ${evicted.join(", ") || "–"} s idle, not after ${kept.join(", ") || "–"} s; runtime pings answered ${n(idle.pings?.answered)}/${n(idle.pings?.sockets)} without waking (${n(idle.pings?.constructedMeanwhile)} constructions)`,
					`first message after the longest idle: p50 ${n(idle.probes.at(-1)?.wakeMs.p50)} ms vs ${n(idle.probes.at(-1)?.warmAfterMs.p50)} ms warm; ${n(idle.wokenAtOnce.rooms)} rooms woken at once: p50 ${n(idle.wokenAtOnce.wakeMs.p50)} / p99 ${n(idle.wokenAtOnce.wakeMs.p99)} ms`,
				].join("; ")
			: `not run or failed${all.find((r) => r.bench === "idle" && r.error) ? `: ${all.find((r) => r.bench === "idle" && r.error).error}` : ""}`,
		idle && idle.probes[0]?.constructedAgain !== null
			? verdict(idle.closedSockets === 0 && evicted.length > 0 && idle.pings?.constructedMeanwhile === 0)
			: "",
	]);
}

const catchup = all.find((r) => r.bench === "catch-up");
if (only.has("catchup")) {
	rows.push([
		"10,000 missed messages over 100 conversations, caught up over the inbox socket: < 1 s",
		catchup ? `${n(catchup.messages)} messages over ${n(catchup.conversations)} conversations` : "–",
		catchup
			? `caught up in ${n(catchup.catchUp.allEntriesMs)} ms (${n(catchup.catchUp.socketEntries)} over the socket in ${n(catchup.catchUp.socketBacklogMs ?? catchup.catchUp.allEntriesMs)} ms, ${n(catchup.catchUp.pagedEntries)} paged after inbox.truncated), complete and in order: ${catchup.catchUp.completeAndInOrder}; sends ${n(catchup.achievedRate)} msg/s of ${n(catchup.targetRate)}, send→inbox p99 ${n(catchup.sendToInboxMs.p99)} ms`
			: `not run or failed${all.find((r) => r.bench === "catchup" && r.error) ? `: ${all.find((r) => r.bench === "catchup" && r.error).error}` : ""}`,
		catchup ? verdict(catchup.catchUp.allEntriesMs < 1000 && catchup.catchUp.completeAndInOrder) : "",
	]);
}

if (process.env.DEMO_BASE && only.has("demo")) {
	roomsRow("demo", "demo", 50, "baseline: workers-chat-demo, rooms 200 × 5 at 50 msg/s (same aims)", 10, 50);
	roomsRow(
		"demo",
		"demo",
		200,
		"baseline: workers-chat-demo, rooms 200 × 5 at 200 msg/s (same aims)",
		20,
		200,
	);
}

console.log(
	`\n${os.cpus().length} CPUs (${os.cpus()[0]?.model ?? "?"}), load average ${os
		.loadavg()
		.map((x) => x.toFixed(1))
		.join(
			" ",
		)}, Node ${process.version}${smoke ? ", SMOKE=1 (shrunk configurations)" : ""}${fresh ? ", a fresh dev server per benchmark" : ""}\n`,
);
console.log("| aim (issue 13) | configuration run | measured | |");
console.log("| --- | --- | --- | --- |");
for (const row of rows) console.log(`| ${row.map((c) => String(c).replaceAll("|", "\\|")).join(" | ")} |`);
