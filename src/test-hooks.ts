/**
 * Test-only fault switches (an inbox, D1, R2 or a Durable Object that fails for a while) exist to
 * prove the retry paths and the 503 answers. They are honoured only when the EDGECHAT_TEST_HOOKS
 * binding is "1", which only vitest.config.ts (and a dev server started with
 * `--var EDGECHAT_TEST_HOOKS:1`) sets; a deployed Worker has no such binding, so the switches are
 * inert there: the header below is ignored and the objects' fault methods refuse.
 *
 * The request-scoped switch is a header, so that tests running side by side cannot disturb each
 * other: `x-edgechat-test-fault: d1, r2-write` replaces the request's bindings by ones that fail the
 * way the platform's do (the same messages and properties, so the one place that recognises them,
 * `dependencyFailure` in errors.ts, is what the tests exercise):
 *
 * - `d1`: every D1 query fails ("D1_ERROR: Network connection lost."); `d1:after=N` lets the first N
 *   queries (executions or batches) of the request through, then fails the rest;
 * - `r2`: every R2 call fails, `r2-write`: only writes (put, multipart), with R2's internal error
 *   (code 10001);
 * - `do-overloaded`: every call to a Conversation or Inbox object is refused before it reaches the
 *   object, as the runtime refuses an overloaded object (`.overloaded`).
 */
export const TEST_FAULT_HEADER = "x-edgechat-test-fault";

export function testHooksEnabled(env: Env): boolean {
	return (env as { EDGECHAT_TEST_HOOKS?: string }).EDGECHAT_TEST_HOOKS === "1";
}

/** The message a D1 binding fails with when its connection drops (Cloudflare's list of D1 errors). */
export const D1_CONNECTION_LOST = "D1_ERROR: Network connection lost.";
/** What an R2 binding throws on an internal error: the operation, a sentence and the code. */
export const R2_INTERNAL_ERROR = "We encountered an internal error. Please try again. (10001)";
/** What the runtime throws for a call to an overloaded Durable Object. */
export const DO_OVERLOADED = "Durable Object is overloaded. Too many requests queued.";
/** What the caller sees when an object's storage fails and the runtime resets it mid-call. */
export const DO_STORAGE_RESET =
	"Durable Object storage operation exceeded timeout which caused object to be reset.";

interface Faults {
	/** Queries let through before D1 fails; null: D1 works. */
	d1After: number | null;
	r2: "all" | "write" | null;
	doOverloaded: boolean;
}

function parseFaults(header: string): Faults {
	const faults: Faults = { d1After: null, r2: null, doOverloaded: false };
	for (const part of header.split(",").map((p) => p.trim())) {
		const after = /^d1:after=(\d{1,6})$/.exec(part);
		if (part === "d1") faults.d1After = 0;
		else if (after) faults.d1After = Number(after[1]);
		else if (part === "r2") faults.r2 = "all";
		else if (part === "r2-write") faults.r2 = faults.r2 ?? "write";
		else if (part === "do-overloaded") faults.doOverloaded = true;
	}
	return faults;
}

/** The request's bindings, with the faults its test header asks for (only with the hooks enabled). */
export function withTestFaults(env: Env, header: string | undefined): Env {
	if (!header || !testHooksEnabled(env)) return env;
	const faults = parseFaults(header);
	const faulty: Env = { ...env };
	if (faults.d1After !== null) faulty.DB = failingD1(env.DB, faults.d1After);
	if (faults.r2) faulty.MEDIA = failingR2(env.MEDIA, faults.r2);
	if (faults.doOverloaded) {
		faulty.CONVERSATION = overloadedNamespace(env.CONVERSATION);
		faulty.INBOX = overloadedNamespace(env.INBOX);
	}
	return faulty;
}

const EXECUTIONS = new Set(["first", "all", "run", "raw"]);

function failingD1(db: D1Database, letThrough: number): D1Database {
	let calls = 0;
	const check = () => {
		if (calls++ >= letThrough) throw new Error(D1_CONNECTION_LOST);
	};
	const unwrapped = new WeakMap<object, D1PreparedStatement>();
	const wrap = (statement: D1PreparedStatement): D1PreparedStatement => {
		const wrapped = new Proxy(statement, {
			get(target, prop) {
				if (prop === "bind") return (...values: unknown[]) => wrap(target.bind(...values));
				const value = Reflect.get(target, prop, target) as unknown;
				if (typeof value !== "function") return value;
				if (typeof prop === "string" && EXECUTIONS.has(prop)) {
					return async (...args: unknown[]) => {
						check();
						return (value as (...a: unknown[]) => unknown).apply(target, args);
					};
				}
				return (value as (...a: unknown[]) => unknown).bind(target);
			},
		});
		unwrapped.set(wrapped, statement);
		return wrapped;
	};
	return new Proxy(db, {
		get(target, prop) {
			if (prop === "prepare") return (sql: string) => wrap(target.prepare(sql));
			if (prop === "batch") {
				return async (statements: D1PreparedStatement[]) => {
					check();
					return target.batch(statements.map((s) => unwrapped.get(s) ?? s));
				};
			}
			if (prop === "exec") {
				return async (query: string) => {
					check();
					return target.exec(query);
				};
			}
			const value = Reflect.get(target, prop, target) as unknown;
			return typeof value === "function" ? (value as (...a: unknown[]) => unknown).bind(target) : value;
		},
	});
}

const R2_WRITES = new Set(["put", "createMultipartUpload", "resumeMultipartUpload", "delete"]);

function failingR2(bucket: R2Bucket, which: "all" | "write"): R2Bucket {
	return new Proxy(bucket, {
		get(target, prop) {
			const value = Reflect.get(target, prop, target) as unknown;
			if (typeof value !== "function" || typeof prop !== "string") return value;
			if (which === "write" && !R2_WRITES.has(prop)) {
				return (value as (...a: unknown[]) => unknown).bind(target);
			}
			return async () => {
				throw new Error(`${prop}: ${R2_INTERNAL_ERROR}`);
			};
		},
	});
}

function overloadedNamespace<N extends DurableObjectNamespace>(namespace: N): N {
	const refuse = () => {
		const error = new Error(DO_OVERLOADED) as Error & { overloaded: boolean };
		error.overloaded = true;
		return Promise.reject(error);
	};
	// Any method of any stub: the call is refused before the object sees it.
	const stub = new Proxy({}, { get: (_target, prop) => (prop === "then" ? undefined : refuse) });
	return new Proxy(namespace, {
		get(target, prop) {
			if (prop === "getByName" || prop === "get") return () => stub;
			const value = Reflect.get(target, prop, target) as unknown;
			return typeof value === "function" ? (value as (...a: unknown[]) => unknown).bind(target) : value;
		},
	});
}
