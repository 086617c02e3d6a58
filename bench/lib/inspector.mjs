// The V8 inspector of the dev server's user worker (Chrome DevTools Protocol over a WebSocket), used
// to observe Durable Objects from outside without changing the code under test:
// - `watchConstructors`: a logpoint (a conditional breakpoint whose condition logs and answers false,
//   so nothing ever pauses) on the first statement of each named class's constructor. Every time the
//   runtime constructs an object of that class (its first request, or its first event after it was
//   evicted, i.e. after hibernation) the inspector reports a console message, which we timestamp.
// - `heapUsed`: the isolate's V8 heap after a forced garbage collection (`Runtime.getHeapUsage`).
// The inspector is workerd's own (`--inspector-addr`, see workerd.mjs), not wrangler's proxy of it.
//
// A quirk of workerd's inspector: commands that need the isolate (garbage collection, heap usage,
// breakpoints) are answered only when the isolate next runs something, so on an idle server they
// wait forever. `poke` (a function that sends the worker any cheap request) is called every 100 ms
// while a command is unanswered.
import { randomBytes } from "node:crypto";
import { performance } from "node:perf_hooks";
import WebSocket from "ws";

export async function openInspector(url, { poke = null, timeoutMs = 20_000 } = {}) {
	const ws = new WebSocket(url, { perMessageDeflate: false });
	let nextId = 1_000_000; // well away from any id another client of a proxied inspector uses
	const pending = new Map();
	const listeners = new Map();
	ws.on("message", (data) => {
		const message = JSON.parse(data.toString());
		if (message.id !== undefined) {
			const call = pending.get(message.id);
			if (!call) return;
			pending.delete(message.id);
			if (message.error) call.reject(new Error(`${call.method}: ${JSON.stringify(message.error)}`));
			else call.resolve(message.result);
		} else {
			for (const listener of listeners.get(message.method) ?? []) listener(message.params);
		}
	});
	await new Promise((resolve, reject) => {
		ws.once("open", resolve);
		ws.once("error", reject);
	});
	ws.on("error", () => {});
	// Another client of the same inspector (wrangler's own proxy of it) can take the session over.
	const closeListeners = [];
	ws.on("close", (code) => {
		for (const call of pending.values()) call.reject(new Error(`${call.method}: inspector closed (${code})`));
		pending.clear();
		for (const listener of closeListeners) listener(code);
	});
	return {
		call(method, params = {}) {
			const id = nextId++;
			const answer = new Promise((resolve, reject) => {
				pending.set(id, { resolve, reject, method });
				ws.send(JSON.stringify({ id, method, params }));
			});
			const timeout = setTimeout(() => {
				pending.get(id)?.reject(new Error(`${method}: no answer from the inspector in ${timeoutMs} ms`));
				pending.delete(id);
			}, timeoutMs);
			// Poking is safe to leave unawaited: each poke is one bounded request whose outcome is ignored.
			const poker = poke ? setInterval(() => void Promise.resolve(poke()).catch(() => {}), 100) : null;
			return answer.finally(() => {
				clearTimeout(timeout);
				if (poker) clearInterval(poker);
			});
		},
		on(method, listener) {
			const list = listeners.get(method) ?? [];
			list.push(listener);
			listeners.set(method, list);
		},
		onClose(listener) {
			if (ws.readyState === WebSocket.CLOSED) listener(null);
			else closeListeners.push(listener);
		},
		close() {
			ws.close();
		},
	};
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Finds `class Name` or `Name = class` in the script, then its constructor's first parameter and the
 * position just after the constructor's opening brace. Null when the class has no constructor.
 */
function findConstructor(source, className) {
	const declaration = new RegExp(`(?:\\bclass\\s+${className}\\b|\\b${className}\\s*=\\s*class\\b)`).exec(
		source,
	);
	if (!declaration) return null;
	const ctor = /\bconstructor\s*\(\s*([A-Za-z_$][\w$]*)?[^)]*\)\s*\{/g;
	ctor.lastIndex = declaration.index;
	const match = ctor.exec(source);
	if (!match) return null;
	const offset = match.index + match[0].length;
	const before = source.slice(0, offset);
	const lineNumber = before.split("\n").length - 1;
	const columnNumber = offset - (before.lastIndexOf("\n") + 1);
	return { lineNumber, columnNumber, param: match[1] ?? null };
}

/**
 * Puts a logpoint in the constructor of each class in `classNames` of the worker's bundle. Answers
 * `{ events, instrumented, reconnects, heapUsed(), startProfile(), stopProfile(), close() }`;
 * `events` fills with `{ className, id, name, at }` (`at` is performance.now() of this process when
 * the report arrived; `id` the object's id in hex; `name` its name where the runtime exposes it).
 *
 * workerd's inspector holds one session per worker: a new client makes it drop the session it had
 * (wrangler's own proxy connects at start-up) and, the first time, the newcomer's too. So a session
 * that closes is opened again and the logpoints set again; reports in between are lost, which
 * `reconnects` tells. While connected, wrangler's DevTools proxy of this worker does not work.
 */
export async function watchConstructors(url, classNames, { poke = null } = {}) {
	// A mark of this watcher's own: on Runtime.enable the inspector replays the console messages it
	// kept, earlier sessions' reports among them.
	const MARK = `bench:constructed:${randomBytes(4).toString("hex")}`;
	const events = [];
	let instrumented = [];
	let inspector = null;
	let closing = false;
	let reconnects = 0;

	async function setUp() {
		const session = await openInspector(url, { poke });
		const scripts = [];
		session.on("Debugger.scriptParsed", (script) => scripts.push(script));
		session.on("Runtime.consoleAPICalled", (params) => {
			const [mark, className, id, name] = params.args.map((a) => a.value);
			if (mark !== MARK) return;
			events.push({ className, id, name: name || null, at: performance.now() });
		});
		await session.call("Runtime.enable");
		await session.call("Runtime.discardConsoleEntries");
		await session.call("Debugger.enable");
		await sleep(500); // scriptParsed events for the scripts already loaded arrive right after enable
		const found = [];
		for (const script of scripts) {
			if (!script.url || /^(workerd|cloudflare-internal|node-internal|internal):/.test(script.url)) continue;
			if (script.url.includes("/miniflare/")) continue;
			const { scriptSource } = await session.call("Debugger.getScriptSource", { scriptId: script.scriptId });
			for (const className of classNames) {
				if (found.some((i) => i.className === className)) continue;
				const at = findConstructor(scriptSource, className);
				if (!at?.param) continue;
				const p = at.param;
				// The condition runs in the constructor's frame: it may read the parameters (the object's
				// state is the first). It logs, and answers false so that the isolate never pauses.
				const condition = `console.log(${JSON.stringify(MARK)}, ${JSON.stringify(className)}, String(${p}?.id ?? ""), String(${p}?.id?.name ?? "")), false`;
				const { actualLocation } = await session.call("Debugger.setBreakpoint", {
					location: { scriptId: script.scriptId, lineNumber: at.lineNumber, columnNumber: at.columnNumber },
					condition,
				});
				found.push({ className, url: script.url, line: actualLocation.lineNumber + 1 });
			}
		}
		if (found.length === 0) {
			session.close();
			throw new Error(`no constructor of ${classNames.join(", ")} found in the worker's scripts`);
		}
		session.onClose(() => {
			if (closing) return;
			reconnects++;
			inspector = null;
			// Reconnecting is left unawaited on purpose: until it succeeds, calls wait for it (connected()).
			void connect().catch(() => {});
		});
		instrumented = found;
		return session;
	}

	let connecting = null;
	function connect() {
		connecting ??= (async () => {
			let lastError;
			for (let attempt = 0; attempt < 5 && !closing; attempt++) {
				try {
					inspector = await setUp();
					return inspector;
				} catch (error) {
					lastError = error;
					await sleep(500);
				}
			}
			throw lastError ?? new Error("inspector closed");
		})().finally(() => {
			connecting = null;
		});
		return connecting;
	}
	const connected = async () => inspector ?? (await connect());
	await connect();

	return {
		events,
		get instrumented() {
			return instrumented;
		},
		get reconnects() {
			return reconnects;
		},
		/** Starts V8's sampling CPU profiler on the isolate (every `intervalUs` µs). */
		async startProfile(intervalUs = 1000) {
			const session = await connected();
			await session.call("Profiler.enable");
			await session.call("Profiler.setSamplingInterval", { interval: intervalUs });
			await session.call("Profiler.start");
		},
		/** Stops it; answers the profile (the `.cpuprofile` format Chrome DevTools opens). */
		async stopProfile() {
			const { profile } = await (await connected()).call("Profiler.stop");
			return profile;
		},
		/** The isolate's used V8 heap in bytes, after a full garbage collection. */
		async heapUsed() {
			const session = await connected();
			await session.call("HeapProfiler.collectGarbage");
			const { usedSize } = await session.call("Runtime.getHeapUsage");
			return usedSize;
		},
		close() {
			closing = true;
			const session = inspector;
			if (!session) return;
			// The isolate keeps console messages for the next session; ours need not be among them.
			const timer = setTimeout(() => session.close(), 2000);
			void session
				.call("Runtime.discardConsoleEntries")
				.catch(() => {})
				.finally(() => {
					clearTimeout(timer);
					session.close();
				});
		},
	};
}

/** The `top` functions by self time of a `.cpuprofile`: [{ fn, url:line, selfPercent }]. */
export function topSelfTime(profile, top = 15) {
	const self = new Map();
	const total = profile.samples.length;
	const byId = new Map(profile.nodes.map((n) => [n.id, n]));
	const counts = new Map();
	for (const id of profile.samples) counts.set(id, (counts.get(id) ?? 0) + 1);
	for (const [id, n] of counts) {
		const { functionName, url, lineNumber } = byId.get(id).callFrame;
		const key = `${functionName || "(anonymous)"} ${url.split("/").at(-1)}:${lineNumber + 1}`;
		self.set(key, (self.get(key) ?? 0) + n);
	}
	return [...self]
		.sort((a, b) => b[1] - a[1])
		.slice(0, top)
		.map(([fn, n]) => ({ fn, selfPercent: Number(((n / total) * 100).toFixed(1)) }));
}
