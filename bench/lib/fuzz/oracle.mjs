// What the contract (docs/api.md) says every answer must look like, checked against one answer.
// The table of error codes is read from docs/api.md itself, so the oracle is the documented
// contract, not the server's code.
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

const apiDoc = readFileSync(fileURLToPath(new URL("../../../docs/api.md", import.meta.url)), "utf8");

/** code → {status, close}, from the rows `| \`code\`[, \`code\`…] | HTTP | close | when |`. */
export const ERROR_TABLE = (() => {
	const table = new Map();
	for (const line of apiDoc.split("\n")) {
		const cells = line.split("|").map((c) => c.trim());
		if (cells.length < 5 || !cells[1]?.startsWith("`")) continue;
		const status = Number(cells[2]);
		const close = Number(cells[3]);
		if (!Number.isInteger(status) || !Number.isInteger(close)) continue;
		for (const code of cells[1].matchAll(/`([a-z_]+)`/g)) table.set(code[1], { status, close });
	}
	if (table.size < 20) throw new Error("could not read the error table of docs/api.md");
	return table;
})();

/** What must never reach a client in an error message. */
const LEAKS = [
	[/\n\s+at /, "stack trace"],
	[/\.(ts|js|mjs):\d+/, "source location"],
	[/SQLITE|D1_ERROR|sqlite_|no such table|SQL logic/i, "SQL"],
	[/ZodError|"code":\s*"invalid_|"issues":/, "zod internals"],
	[/TypeError|RangeError|SyntaxError|ReferenceError/, "JS exception"],
	[/workerd|wrangler|miniflare|DurableObject/i, "runtime internals"],
];

function leakOf(message) {
	for (const [pattern, what] of LEAKS) if (pattern.test(message)) return what;
	return null;
}

/**
 * Problems with one HTTP answer, given what the case expects:
 * `expect` = { reject?: bool, statuses?: number[], codes?: string[] }.
 * Answers `{violations: [kind…], findings: [kind…]}`: violations break the contract as written;
 * findings are weaker departures (a 404 where 405 fits), reported but not failing the run.
 */
export function checkHttp(kase, response) {
	const violations = [];
	const findings = [];
	const { status, headers } = response;
	const expect = kase.expect ?? {};
	if (status >= 500) violations.push(`5xx (${status})`);
	const requestId = headers["x-request-id"];
	if (status !== 101 && !requestId) violations.push("no x-request-id header");
	const ok = status >= 200 && status < 300;
	const accepted = expect.reject && (ok || status === 101);
	if (accepted) violations.push(`accepted (${status}) what the contract refuses`);
	const hasBody = kase.method !== "HEAD" && status !== 204 && status !== 304 && status !== 101;
	if (status >= 400 && hasBody) {
		let body;
		try {
			body = JSON.parse(response.text);
		} catch {}
		const error = body?.error;
		if (!error || typeof error !== "object") {
			violations.push(`error body is not {"error":…}: ${JSON.stringify(response.text.slice(0, 80))}`);
		} else {
			if (typeof error.code !== "string" || !ERROR_TABLE.has(error.code))
				violations.push(`undocumented code ${JSON.stringify(error.code)}`);
			else if (ERROR_TABLE.get(error.code).status !== status)
				violations.push(
					`code ${error.code} with status ${status} (the table says ${ERROR_TABLE.get(error.code).status})`,
				);
			if (typeof error.message !== "string" || error.message === "")
				violations.push("error without a message");
			else {
				const leak = leakOf(error.message);
				if (leak) violations.push(`message leaks ${leak}: ${JSON.stringify(error.message.slice(0, 120))}`);
			}
			if (typeof error.requestId !== "string" || error.requestId === "")
				violations.push("error without a requestId");
			else if (requestId && error.requestId !== requestId)
				violations.push("requestId differs from x-request-id");
			const extra = Object.keys(body).filter((k) => k !== "error");
			if (extra.length) findings.push(`error body has extra keys ${extra.join(",")}`);
			if (expect.codes && error.code && !expect.codes.includes(error.code))
				violations.push(`code ${error.code}, expected ${expect.codes.join("|")}`);
		}
	}
	if (status === 429 && !headers["retry-after"]) violations.push("429 without Retry-After");
	if (status === 405 && !headers.allow) violations.push("405 without Allow");
	if (expect.statuses && !expect.statuses.includes(status) && status < 500 && !accepted)
		violations.push(`status ${status}, expected ${expect.statuses.join("|")}`);
	if (expect.prefer && !expect.prefer.includes(status) && !ok)
		findings.push(`status ${status} where ${expect.prefer.join("|")} fits`);
	return { violations, findings };
}

/**
 * Problems with the frames a socket sent back for one client frame (everything between it and the
 * probe that follows it). `expect`: "error" (exactly one error frame), "optional-error" (at most
 * one), "no-error", "ack-or-error" (exactly one ack or error carrying `clientId`; with `reject`, an
 * error), "pongs:n" (at least n pongs), "any".
 */
export function checkFrames(kase, frames) {
	const violations = [];
	const findings = [];
	const errors = frames.filter((f) => f.type === "error");
	for (const error of errors) {
		if (typeof error.code !== "string" || !ERROR_TABLE.has(error.code))
			violations.push(`error frame with undocumented code ${JSON.stringify(error.code)}`);
		if (typeof error.message !== "string" || error.message === "")
			violations.push("error frame without a message");
		else {
			const leak = leakOf(error.message);
			if (leak) violations.push(`error frame leaks ${leak}: ${JSON.stringify(error.message.slice(0, 120))}`);
		}
		if (error.code === "rate_limited" && typeof error.retryAfter !== "number")
			violations.push("rate_limited error frame without retryAfter");
		if (error.code === "internal") violations.push(`internal error frame: ${error.message}`);
		if (kase.codes && !kase.codes.includes(error.code))
			violations.push(`error code ${error.code}, expected ${kase.codes.join("|")}`);
	}
	const unexpected = frames.filter((f) => f.type === "<not json>");
	if (unexpected.length)
		violations.push(`non-JSON server frame ${JSON.stringify(unexpected[0].text.slice(0, 80))}`);
	if (kase.expect === "error" && errors.length !== 1)
		violations.push(errors.length === 0 ? "no error frame for a bad frame" : `${errors.length} error frames`);
	if (kase.expect === "optional-error" && errors.length > 1) violations.push(`${errors.length} error frames`);
	if (kase.expect === "no-error" && errors.length > 0)
		violations.push(`error frame ${errors[0].code} for a valid frame: ${errors[0].message}`);
	if (kase.expect === "ack-or-error") {
		const answers = frames.filter(
			(f) => (f.type === "message.ack" || f.type === "error") && f.clientId === kase.clientId,
		);
		if (answers.length !== 1)
			violations.push(`${answers.length} answers (ack or error with the clientId) to one message.send`);
		if (errors.length > 0 && errors.some((e) => e.clientId !== kase.clientId))
			violations.push("error for a message.send without its clientId");
		if (kase.reject && answers.some((f) => f.type === "message.ack"))
			violations.push("acked (stored) a message the contract refuses");
	}
	// docs/api.md: a refused message.send's error carries its clientId whenever it can be read, a
	// frame over the size limit's too.
	if (kase.wantClientId && errors.some((e) => e.clientId !== kase.wantClientId))
		violations.push("error for a message.send without its clientId (a client cannot tell which send failed)");
	if (kase.expect?.startsWith?.("pongs:")) {
		const pongs = frames.filter((f) => f.type === "pong").length;
		// At least: the runtime's own answer to an exact {"type":"ping"} may land in any window.
		if (pongs < Number(kase.expect.slice(6)))
			violations.push(`${pongs} pongs, expected ${kase.expect.slice(6)}`);
		if (errors.length) violations.push("error frame for a ping");
	}
	return { violations, findings };
}
