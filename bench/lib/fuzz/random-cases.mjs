// Random requests and frames from the seeded PRNG, on top of the catalogues: random JSON of any
// shape and depth, random strings of awkward characters, in the fields, queries, paths and headers
// of every route and in frames of every type. Their answers are held to the general rules only.
import { validCase, variant, withField } from "./requests.mjs";
import { fillPath, ROUTES } from "./routes.mjs";
import { LONE_SURROGATES } from "./values.mjs";

const text = (data) => ({ data, binary: false });
const binary = (data) => ({ data: Buffer.isBuffer(data) ? data : Buffer.from(data), binary: true });

const WEIRD =
	"abc019 _-.@+=/\\\"'<>{}[]%&?#:;,\u0000\u0007\t\n\r\u00e9\u00ff\u2028\u202e\u200b\ufeff\u{1f600}\u0301";

/** Random JSON text: any type, any depth up to `depth`, with lone surrogates now and then. */
export function randomJson(r, depth = 4, keys = []) {
	const roll = r.int(depth > 0 ? 10 : 7);
	switch (roll) {
		case 0:
			return "null";
		case 1:
			return r.chance(0.5) ? "true" : "false";
		case 2:
			return String(r.pick([0, -1, 1, 2 ** 31, 2 ** 53 + 1, -(2 ** 63), r.int(1000)]));
		case 3:
			return r.pick(["1.5", "-0", "1e308", "1e-320", "1e400", "0.1e1", "123456789012345678901234567890"]);
		case 4:
		case 5:
			return JSON.stringify(r.string(r.pick([0, 1, 5, 64, 65, 300]), WEIRD));
		case 6:
			return `"${[...r.string(r.int(8), WEIRD)].filter((c) => c >= " " && c !== '"' && c !== "\\").join("")}${r.pick(LONE_SURROGATES)}"`;
		case 7:
		case 8: {
			const n = r.int(5);
			return `[${Array.from({ length: n }, () => randomJson(r, depth - 1, keys)).join(",")}]`;
		}
		default: {
			const n = r.int(5);
			const entries = Array.from({ length: n }, () => {
				const key = keys.length && r.chance(0.7) ? r.pick(keys) : r.string(r.int(6) + 1, WEIRD);
				return `${JSON.stringify(key)}:${randomJson(r, depth - 1, keys)}`;
			});
			return `{${entries.join(",")}}`;
		}
	}
}

/** One random request: a route's valid request with random fields, query values and headers. */
export function randomCase(f, r) {
	const route = r.pick(ROUTES);
	const valid = validCase(route, f, r);
	const changes = {};
	const labels = [];
	const keys = [...Object.keys(route.fields ?? {}), "type", "clientId", "text", "seq", "cursor"];
	if (route.body && r.chance(0.8)) {
		const template = route.body(f, r);
		const field = r.pick(Object.keys(route.fields ?? { x: 1 }));
		const value = randomJson(r, 3, keys);
		changes.body = r.chance(0.3) ? randomJson(r, 4, keys) : withField(template, field, value);
		labels.push(r.chance(0.3) ? "random body" : `${field} random`);
	}
	if (route.query && r.chance(0.7)) {
		const name = r.pick(Object.keys(route.query));
		const value = encodeURIComponent(r.string(r.int(12), WEIRD));
		changes.query = [...valid.query.filter(([k]) => k !== name), [name, value]];
		labels.push(`?${name} random`);
	}
	if (route.params && r.chance(0.3)) {
		const name = r.pick(Object.keys(route.params));
		changes.path = fillPath(route, f, { [name]: encodeURIComponent(r.string(r.int(70), WEIRD)) });
		labels.push(`:${name} random`);
	}
	if (r.chance(0.15)) {
		changes.headers = { authorization: `Bearer ${r.string(r.int(200), WEIRD.replace(/[^\x20-\x7e]/g, ""))}` };
		changes.authLabel = "random bearer";
		labels.push("random token");
	}
	if (r.chance(0.1)) {
		changes.method = r.pick(["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD"]);
		labels.push(`${changes.method}`);
	}
	return variant(valid, "random", labels.join(", ") || "random", { ...changes, expect: {} });
}

const TYPES = [
	"message.send",
	"read.mark",
	"typing.start",
	"typing.stop",
	"sync",
	"ping",
	"inbox.ack",
	"nope",
];
const KEYS = ["type", "clientId", "text", "attachments", "replyTo", "seq", "after", "cursor"];

/** A random frame: a known type (mostly) with random fields, or random JSON, or random bytes. */
export function randomFrame(r, socket) {
	const roll = r.next();
	if (roll < 0.08)
		return {
			socket,
			category: "random",
			label: "random bytes",
			frames: [binary(r.bytes(r.int(64)))],
			expect: "error",
		};
	if (roll < 0.2)
		return {
			socket,
			category: "random",
			label: "random JSON",
			frames: [text(randomJson(r, 4, KEYS))],
			expect: "any",
		};
	const type = r.pick(TYPES.filter((t) => t !== "ping"));
	const fields = Array.from(
		{ length: r.int(4) },
		() => `${JSON.stringify(r.pick(KEYS.slice(1)))}:${randomJson(r, 3, KEYS)}`,
	);
	let clientId;
	if (type === "message.send" && socket === "conversation" && r.chance(0.7)) {
		clientId = `fz-rand-${r.string(10)}`;
		fields.unshift(`"clientId":"${clientId}"`);
	}
	const json = `{"type":"${type}"${fields.length ? "," : ""}${fields.join(",")}}`;
	// A later clientId key overrides the first: only a frame whose clientId we know is held to one answer.
	const onlyOne = clientId && !fields.slice(1).some((f) => f.startsWith('"clientId"'));
	return {
		socket,
		category: "random",
		label: `random ${type}`,
		frames: [r.chance(0.1) ? binary(json) : text(json)],
		expect: onlyOne ? "ack-or-error" : "any",
		clientId,
	};
}
