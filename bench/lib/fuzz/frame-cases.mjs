// WebSocket fuzz cases: frames for the conversation socket and the inbox socket (a catalogue, then
// random frames), and malformed handshakes sent as raw bytes. A frame case is `{socket, category,
// label, frames: [{data, binary}], expect, reject?, clientId?, codes?, allowClose?}`; see
// oracle.mjs checkFrames for what `expect` means. Random frames are in random-cases.mjs.

import { FIELD_KINDS, LONE_SURROGATES, nested } from "./values.mjs";

const text = (data) => ({ data, binary: false });
const binary = (data) => ({ data: Buffer.isBuffer(data) ? data : Buffer.from(data), binary: true });
const FRAME_LIMIT = 64 * 1024;

/** A JSON text frame padded with spaces to exactly `bytes` bytes. */
function padded(json, bytes) {
	return `${json.slice(0, -1)}${" ".repeat(bytes - Buffer.byteLength(json))}}`;
}

const NOT_JSON = [
	"",
	"x",
	"{",
	"}",
	"[1,",
	"nul",
	"{'type':'ping'}",
	'{"type":"ping"',
	"\u0000",
	"\ufeff{}",
	"ping",
];
const NOT_OBJECTS = ["null", "1", '"ping"', "[]", '[{"type":"ping"}]', "true", "-0", "1e400"];
const BAD_TYPES = [
	"{}",
	'{"type":null}',
	'{"type":1}',
	'{"type":""}',
	'{"type":"MESSAGE.SEND"}',
	'{"type":"message.sent"}',
	'{"type":"message.send "}',
	'{"type":"__proto__"}',
	'{"type":"constructor"}',
	'{"type":"toString"}',
	'{"type":"hasOwnProperty"}',
	'{"type":"error"}',
	'{"type":"ready"}',
	'{"type":"pong"}',
	'{"type":"message.ack"}',
	'{"type":["message.send"]}',
	'{"type":{"a":1}}',
	`{"type":${JSON.stringify("t".repeat(20_000))}}`,
	...LONE_SURROGATES.map((s) => `{"type":"${s}"}`),
	'{"TYPE":"ping"}',
];

let clientIds = 0;
const nextClientId = () => `fz-frame-${++clientIds}`;

/** message.send with one field replaced by raw JSON. */
function send(fields) {
	const clientId = fields.clientId ?? JSON.stringify(nextClientId());
	const parts = [`"type":"message.send"`, `"clientId":${clientId}`];
	for (const [k, v] of Object.entries(fields)) if (k !== "clientId") parts.push(`${JSON.stringify(k)}:${v}`);
	return { json: `{${parts.join(",")}}`, clientId: JSON.parse(clientId) };
}

function common(socket) {
	const cases = [];
	const add = (category, label, frames, expect, extra = {}) =>
		cases.push({ socket, category, label, frames, expect, ...extra });
	for (const t of NOT_JSON)
		add("not-json", `text ${JSON.stringify(t)}`, [text(t)], "error", { codes: ["invalid_json"] });
	for (const t of NOT_OBJECTS) add("not-object", `JSON ${t}`, [text(t)], "error");
	for (const t of BAD_TYPES)
		add("type", `type ${t.slice(0, 40)}`, [text(t)], "error", { codes: ["unknown_frame"] });
	add("binary", "random bytes", [binary(Buffer.from([0xff, 0x00, 0x13, 0x37, 0x80, 0xc3]))], "error", {
		codes: ["invalid_json"],
	});
	add("binary", "empty binary frame", [binary(Buffer.alloc(0))], "error", { codes: ["invalid_json"] });
	add("binary", "binary ping (answered by the object)", [binary('{"type":"ping"}')], "pongs:1");
	add(
		"binary",
		"binary with invalid UTF-8 inside a JSON string",
		[binary(Buffer.from([0x7b, 0x22, 0xff, 0x22, 0x3a, 0x31, 0x7d]))],
		"error",
	);
	add("ping", "ping with an extra field", [text('{"type":"ping","x":[1,2]}')], "pongs:1");
	add("ping", "ping with leading spaces", [text('   {"type":"ping"}')], "pongs:1");
	add("ping", "ping with a duplicate type key", [text('{"type":"x","type":"ping"}')], "pongs:1");
	add("size", "exactly 64 KiB (a padded ping)", [text(padded('{"type":"ping"}', FRAME_LIMIT))], "pongs:1");
	add("size", "64 KiB + 1 byte", [text(padded('{"type":"ping"}', FRAME_LIMIT + 1))], "error", {
		codes: ["frame_too_large"],
	});
	add("size", "64 KiB + 1 byte, binary", [binary(padded('{"type":"ping"}', FRAME_LIMIT + 1))], "error", {
		codes: ["frame_too_large"],
	});
	add(
		"size",
		"22,000 × € (66 kB of UTF-8, 22 k UTF-16 units)",
		[text(`{"type":"ping","x":"${"€".repeat(22_000)}"}`)],
		"error",
		{
			codes: ["frame_too_large"],
		},
	);
	for (const bytes of [100_000, 1024 * 1024 - 64, 1024 * 1024 + 1, 3 * 1024 * 1024])
		add("size", `${bytes} bytes`, [text(padded('{"type":"ping"}', bytes))], "error", {
			codes: ["frame_too_large"],
			// docs/api.md: 1009 is the close code for too large; the runtime may close on what it cannot take.
			allowClose: bytes > 1024 * 1024 ? [1009] : [],
		});
	add("nesting", "30,000-deep arrays", [text(nested("array", 30_000))], "error");
	add("nesting", "10,000-deep objects", [text(nested("object", 10_000))], "error");
	add(
		"keys",
		"5,000 keys",
		[text(`{"type":"ping",${Array.from({ length: 5000 }, (_, i) => `"k${i}":1`).join(",")}}`)],
		"pongs:1",
	);
	return cases;
}

export function conversationCatalogue() {
	const cases = common("conversation");
	const add = (category, label, frames, expect, extra = {}) =>
		cases.push({ socket: "conversation", category, label, frames, expect, ...extra });
	const sendCase = (label, fields, options = {}) => {
		const { json, clientId } = send(fields);
		if (Buffer.byteLength(json) > FRAME_LIMIT) {
			// Over the frame limit the frame is not parsed, so its error cannot carry the clientId.
			add(options.category ?? "message.send", label, [text(json)], "error", {
				codes: ["frame_too_large"],
				wantClientId: clientId,
			});
			return;
		}
		add(options.category ?? "message.send", label, [text(json)], "ack-or-error", {
			clientId,
			reject: true,
			...options,
		});
	};
	for (const value of FIELD_KINDS.clientId) {
		const frame = `{"type":"message.send","clientId":${value.raw},"text":"x"}`;
		const clientId = JSON.parse(value.raw);
		if (typeof clientId === "string" && clientId.length >= 1 && clientId.length <= 64)
			// A string clientId the schema refuses (a lone surrogate): its error should still carry it.
			sendCase(`clientId = ${value.label}`, { clientId: value.raw, text: '"x"' }, { category: "surrogate" });
		else add("message.send", `clientId = ${value.label}`, [text(frame)], "error");
	}
	add("message.send", "without clientId", [text('{"type":"message.send","text":"x"}')], "error");
	for (const value of FIELD_KINDS.text)
		sendCase(
			`text = ${value.label}`,
			{ text: value.raw },
			{ category: value.label.includes("surrogate") ? "surrogate" : "message.send" },
		);
	for (const value of FIELD_KINDS.idArray)
		sendCase(`attachments = ${value.label}`, { text: '"x"', attachments: value.raw });
	for (const value of [
		...FIELD_KINDS.seq,
		{ raw: "0", label: "0" },
		{ raw: "999999", label: "no such message" },
	])
		sendCase(`replyTo = ${value.label}`, { text: '"x"', replyTo: value.raw });
	sendCase("no text, no attachment", {});
	sendCase("blank text", { text: '"   \\n\\t "' });
	sendCase("text of invisible characters only", { text: '"\\u200b\\u200b"' }, { reject: false });
	sendCase("attachment of another tenant's style id", { text: '"x"', attachments: '["m_not_mine"]' });
	sendCase("the valid frame", { text: '"fuzz frame hello"' }, { category: "control", reject: false });
	sendCase("an unknown extra field", { text: '"x"', fuzz: "1" }, { reject: false });
	sendCase("__proto__ field", { text: '"x"', __proto__: '{"type":"ping"}' }, { reject: false });
	sendCase("text 22,000 × € (frame over 64 KiB)", { text: JSON.stringify("€".repeat(22_000)) });
	for (const value of [...FIELD_KINDS.seq, { raw: "999999999", label: "beyond the last message" }])
		add("read.mark", `seq = ${value.label}`, [text(`{"type":"read.mark","seq":${value.raw}}`)], "error");
	add("read.mark", "seq 0 (behind, accepted)", [text('{"type":"read.mark","seq":0}')], "no-error");
	add("read.mark", "without seq", [text('{"type":"read.mark"}')], "error");
	for (const value of FIELD_KINDS.seq)
		add("sync", `after = ${value.label}`, [text(`{"type":"sync","after":${value.raw}}`)], "error");
	add("sync", "without after", [text('{"type":"sync"}')], "error");
	add("sync", "after 2^53-1", [text('{"type":"sync","after":9007199254740991}')], "no-error");
	add("sync", "after 0 (replays)", [text('{"type":"sync","after":0}')], "no-error");
	add(
		"typing",
		"typing.start with junk",
		[text('{"type":"typing.start","active":"yes","x":[1]}')],
		"optional-error",
	);
	add("typing", "typing.stop", [text('{"type":"typing.stop"}')], "optional-error");
	return cases;
}

export function inboxCatalogue() {
	const cases = common("inbox");
	const add = (category, label, frames, expect, extra = {}) =>
		cases.push({ socket: "inbox", category, label, frames, expect, ...extra });
	for (const value of [...FIELD_KINDS.seq, { raw: "999999999", label: "beyond the last cursor" }])
		add(
			"inbox.ack",
			`cursor = ${value.label}`,
			[text(`{"type":"inbox.ack","cursor":${value.raw}}`)],
			"error",
		);
	add("inbox.ack", "without cursor", [text('{"type":"inbox.ack"}')], "error");
	add("inbox.ack", "cursor 0", [text('{"type":"inbox.ack","cursor":0}')], "no-error");
	add(
		"type",
		"a conversation frame on the inbox socket",
		[text('{"type":"message.send","clientId":"x","text":"y"}')],
		"error",
		{
			codes: ["unknown_frame"],
		},
	);
	return cases;
}
