// The fuzz run's randomness and its vocabulary of bad values. Every choice goes through one seeded
// PRNG, so a run is replayed by its seed (the network's timing aside).

/** mulberry32: small, fast, and good enough to pick test inputs. */
export function prng(seed) {
	let a = seed >>> 0;
	const next = () => {
		a = (a + 0x6d2b79f5) >>> 0;
		let t = a;
		t = Math.imul(t ^ (t >>> 15), t | 1);
		t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
		return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
	};
	const int = (n) => Math.floor(next() * n);
	return {
		next,
		int,
		pick: (list) => list[int(list.length)],
		chance: (p) => next() < p,
		/** n characters (code points, so never half a surrogate pair) of `alphabet`. */
		string: (n, alphabet = "abcdefghijklmnopqrstuvwxyz0123456789") => {
			const chars = [...alphabet];
			return Array.from({ length: n }, () => chars[int(chars.length)]).join("");
		},
		bytes: (n) => Buffer.from(Array.from({ length: n }, () => int(256))),
	};
}

/** A JSON text with `"\ud800"` style escapes kept as written: JSON.stringify would never make them. */
export const LONE_SURROGATES = ["\\ud800", "\\udfff", "a\\ud83d", "\\udc00b", "\\ud800\\ud800"];

/** A raw JSON fragment (inserted as is into a body), paired with a label for the report. */
export const raw = (text, label = text) => ({ raw: text, label });

/** Values of the wrong JSON type for any field (each field kind adds its own below). */
export const WRONG_TYPES = [
	raw("null"),
	raw("true"),
	raw("0"),
	raw("-1"),
	raw("1.5"),
	raw('"x"'),
	raw("[]"),
	raw("{}"),
	raw('["x"]'),
	raw('{"a":1}'),
	raw("1e400", "1e400 (Infinity)"),
	raw("-1e400", "-1e400"),
	raw("9007199254740993", "2^53+1"),
	raw("1e308"),
	raw("-0"),
];

/**
 * Field kinds of the documented bodies: `bad` are values the schema must refuse (each makes the
 * request invalid on its own); the fuzz puts one into an otherwise valid body.
 */
export const FIELD_KINDS = {
	seq: [
		raw("-1"),
		raw("1.5"),
		raw('"1"'),
		raw("null"),
		raw("true"),
		raw("[]"),
		raw("{}"),
		raw("1e400", "1e400 (Infinity)"),
		raw("9007199254740993", "2^53+1"),
		raw("18446744073709551616", "2^64"),
		raw('"0x10"'),
	],
	clientId: [
		raw('""', "empty"),
		raw(JSON.stringify("x".repeat(65)), "65 chars"),
		raw(JSON.stringify("x".repeat(100_000)), "100k chars"),
		raw("1"),
		raw("null"),
		raw("[]"),
		raw("{}"),
		raw("true"),
		...LONE_SURROGATES.map((s) => raw(`"${s}"`, `lone surrogate ${s}`)),
	],
	text: [
		raw("1"),
		raw("null"),
		raw("[]"),
		raw('{"text":"x"}'),
		raw("true"),
		raw(JSON.stringify("x".repeat(16 * 1024 + 1)), "16 KiB + 1 chars"),
		raw(JSON.stringify("é".repeat(8 * 1024 + 1)), "8 Ki+1 é (16 KiB + 2 bytes)"),
		...LONE_SURROGATES.map((s) => raw(`"hello ${s}"`, `lone surrogate ${s}`)),
	],
	name: [
		raw('""', "empty"),
		raw('"   "', "blank"),
		raw(JSON.stringify("n".repeat(201)), "201 chars"),
		raw("1"),
		raw("null"),
		raw("[]"),
		raw("{}"),
		...LONE_SURROGATES.map((s) => raw(`"name ${s}"`, `lone surrogate ${s}`)),
	],
	userId: [
		raw('""', "empty"),
		raw(JSON.stringify("u".repeat(129)), "129 chars"),
		raw('"a b"', "space"),
		raw('"a/b"', "slash"),
		raw('"é"', "non-ascii"),
		raw("1"),
		raw("null"),
		raw("[]"),
		...LONE_SURROGATES.map((s) => raw(`"u${s}"`, `lone surrogate ${s}`)),
	],
	id: [
		raw('""', "empty"),
		raw(JSON.stringify("i".repeat(65)), "65 chars"),
		raw('"a.b"', "dot"),
		raw('"../x"', "dot-dot-slash"),
		raw("1"),
		raw("null"),
		raw("{}"),
		...LONE_SURROGATES.map((s) => raw(`"m${s}"`, `lone surrogate ${s}`)),
	],
	hostname: [
		raw('""', "empty"),
		raw('"https://x.test"', "scheme"),
		raw('"x.test:8080"', "port"),
		raw('"-x.test"', "leading hyphen"),
		raw(JSON.stringify(`${"a".repeat(64)}.test`), "64-char label"),
		raw(JSON.stringify("a.".repeat(130)), "260 chars"),
		raw('"exa mple.test"', "space"),
		raw('"xn--\\ud800.test"', "lone surrogate"),
		raw("1"),
		raw("null"),
	],
	ttl: [raw("59"), raw("2592001"), raw("60.5"), raw('"3600"'), raw("-1"), raw("null"), raw("1e400")],
	olderThan: [raw("-1"), raw("1.5"), raw('"1"'), raw("315360001"), raw("null"), raw("1e400")],
	rate: [
		raw("{}"),
		raw('{"perSecond":0,"burst":1}', "perSecond 0"),
		raw('{"perSecond":-1,"burst":1}', "perSecond -1"),
		raw('{"perSecond":1,"burst":1.5}', "burst 1.5"),
		raw('{"perSecond":1,"burst":0}', "burst 0"),
		raw('{"perSecond":100001,"burst":1}', "perSecond 100001"),
		raw('{"perSecond":"1","burst":1}', "perSecond string"),
		raw('{"perSecond":1e400,"burst":1}', "perSecond Infinity"),
		raw("null"),
		raw("[]"),
		raw("5"),
	],
	settings: [raw("null"), raw("[]"), raw('"x"'), raw("1"), raw("true")],
	mediaMaxBytes: [raw("0"), raw("100000001"), raw("1.5"), raw('"1"'), raw("-5"), raw("null")],
	type: [raw('"groups"'), raw('"GROUP"'), raw("1"), raw("null"), raw('""'), raw("[]")],
	idArray: [
		raw('"m_x"', "string, not array"),
		raw("[1]"),
		raw("[null]"),
		raw('[""]'),
		raw(JSON.stringify(Array.from({ length: 11 }, (_, i) => `m_${i}`)), "11 ids"),
		raw(JSON.stringify(Array.from({ length: 100_000 }, (_, i) => `m_${i}`)), "100k ids"),
		raw("[[[]]]"),
		raw("{}"),
	],
	userIdArray: [
		raw('"bob"', "string, not array"),
		raw("[1]"),
		raw("[null]"),
		raw('[""]'),
		raw('["a b"]'),
		raw(JSON.stringify(Array.from({ length: 1001 }, (_, i) => `u${i}`)), "1001 ids"),
		raw("{}"),
		raw('["\\ud800"]', "lone surrogate"),
	],
	directMembers: [raw("[]"), raw('["a","b"]', "two"), raw('"bob"'), raw("[1]"), raw("null")],
};

/** Numbers in a query string that only a lax parser takes for an integer. */
export const LAX_NUMBERS = [
	"",
	" ",
	"0x10",
	"0X1",
	"0b1",
	"0o7",
	"1e1",
	"1e3",
	"1E2",
	"+1",
	"-0",
	"1.0",
	"1.",
	".5",
	" 5",
	"5 ",
	"%095",
	"Infinity",
	"NaN",
	"1_0",
	"٣",
	"１",
];

/** Numbers in a query string that are clearly out of range or not numbers at all. */
export const BAD_NUMBERS = [
	"-1",
	"1.5",
	"abc",
	"99999999999999999999",
	"9007199254740993",
	"1e400",
	"-1e3",
	"%00",
	"null",
	"[]",
	"%FF",
	"%ED%A0%80",
	"1;2",
	"x".repeat(5_000),
];

/** JSON texts that no schema can take: broken syntax, or valid JSON of the wrong shape. */
export const BAD_JSON = [
	"",
	"{",
	"}",
	'{"a":',
	"{'a':1}",
	'{"a":1,}',
	"[1,2",
	"nul",
	"tru",
	"NaN",
	"Infinity",
	"undefined",
	'{"a":1}garbage',
	'{"a":1} {"b":2}',
	"/* comment */ {}",
	"\u0000",
	"null",
	"true",
	"0",
	'"string"',
	"[]",
	"[{}]",
	'{"__proto__":{"polluted":1}}',
	'{"constructor":{"prototype":{"polluted":1}}}',
	'"\\ud800"',
	'{"\\ud800":1}',
];

/** Deeply nested JSON: arrays, objects, or a mix, `depth` levels. */
export function nested(kind, depth) {
	if (kind === "array") return `${"[".repeat(depth)}${"]".repeat(depth)}`;
	if (kind === "object") return `${'{"a":'.repeat(depth)}1${"}".repeat(depth)}`;
	return `${'{"a":['.repeat(depth)}1${"]}".repeat(depth)}`;
}

/** Bearer tokens that are not tokens at all. */
export const GARBAGE_TOKENS = [
	"",
	"x",
	"a.b",
	"a.b.c",
	"a.b.c.d",
	"....",
	"eyJ.eyJ.x",
	"%00",
	"null",
	"ey".repeat(20_000),
	"日本語.トークン.です",
];
