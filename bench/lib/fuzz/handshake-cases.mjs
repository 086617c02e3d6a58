// Malformed WebSocket handshakes (RFC 6455 §4.2.1: a server that finds the handshake malformed
// answers an HTTP error, e.g. 400; a version it does not speak, 426 with Sec-WebSocket-Version), and
// frames that break the framing itself, for both sockets.
import { randomBytes } from "node:crypto";
import { clientFrame, handshake, handshakeLines } from "./sockets.mjs";

const REFUSE = { reject: true, statuses: [400] };
/**
 * What the Worker checks (src/upgrade.ts) but cannot see under `wrangler dev`: its proxy answers a
 * handshake without a key or with another version itself (plain-text 400), and redoes every other
 * handshake with a fresh key and `Connection: Upgrade` before the Worker sees it. In production the
 * Worker gets the client's own handshake; src/upgrade.test.ts holds the Worker to these cases.
 */
const DEV_PROXY = "wrangler dev's proxy (it redoes the handshake, so the Worker never sees this one)";

/** `{socket, category, label, bytes, expect}` for the conversation socket and the inbox socket. */
export function handshakeCases(f) {
	const cases = [];
	const sockets = [
		["conversation", `/v1/conversations/${f.conversations.group}/ws`],
		["inbox", "/v1/inbox/ws"],
	];
	for (const [socket, path] of sockets) {
		const withToken = `${path}?token=${f.tokens.owner}`;
		const add = (label, request, expect, category = "handshake", extra = {}) =>
			cases.push({
				socket,
				category,
				label,
				bytes: handshake({ host: f.a.host, path: withToken, ...request }),
				expect,
				...extra,
			});
		add("the valid handshake", { lines: handshakeLines() }, { statuses: [101] }, "control");
		const byProxy = { runtime: DEV_PROXY };
		add(
			"no Sec-WebSocket-Key",
			{ lines: handshakeLines({ drop: ["Sec-WebSocket-Key"] }) },
			REFUSE,
			"handshake",
			byProxy,
		);
		for (const [key, label] of [
			["bad", "3 chars"],
			["!!!!!!!!!!!!!!!!!!!!!!==", "not base64"],
			[randomBytes(15).toString("base64"), "15 bytes"],
			[randomBytes(17).toString("base64"), "17 bytes"],
			["", "empty"],
			["k".repeat(2000), "2000 chars"],
		])
			add(
				`Sec-WebSocket-Key ${label}`,
				{ lines: handshakeLines({ set: { "Sec-WebSocket-Key": key } }) },
				REFUSE,
				"handshake",
				byProxy,
			);
		add(
			"two Sec-WebSocket-Key headers",
			{
				lines: handshakeLines({
					set: {
						"Sec-WebSocket-Key": [randomBytes(16).toString("base64"), randomBytes(16).toString("base64")],
					},
				}),
			},
			REFUSE,
			"handshake",
			byProxy,
		);
		// RFC 6455 §4.4: a version the server does not speak gets 426 with the one it does.
		const VERSION = { reject: true, statuses: [426], codes: ["upgrade_required"] };
		add(
			"no Sec-WebSocket-Version",
			{ lines: handshakeLines({ drop: ["Sec-WebSocket-Version"] }) },
			VERSION,
			"handshake",
			byProxy,
		);
		for (const version of ["8", "14", "13abc", "", "13, 8"])
			add(
				`Sec-WebSocket-Version ${JSON.stringify(version)}`,
				{ lines: handshakeLines({ set: { "Sec-WebSocket-Version": version } }) },
				VERSION,
				"handshake",
				byProxy,
			);
		// Without a WebSocket upgrade, ?token= is no credential (docs/api.md): 401 is as right as 426.
		const notUpgrade = { reject: true, statuses: [400, 401, 426] };
		add(
			"Connection: keep-alive (no Upgrade token)",
			{ lines: handshakeLines({ set: { Connection: "keep-alive" } }) },
			notUpgrade,
			"handshake",
			byProxy,
		);
		add(
			"no Connection header",
			{ lines: handshakeLines({ drop: ["Connection"] }) },
			notUpgrade,
			"handshake",
			byProxy,
		);
		add("Upgrade: websocketx", { lines: handshakeLines({ set: { Upgrade: "websocketx" } }) }, notUpgrade);
		add("Upgrade: h2c", { lines: handshakeLines({ set: { Upgrade: "h2c" } }) }, notUpgrade);
		// The runtime hands the Worker such a request as a GET (its 404 says "No route for GET …") and
		// then refuses the 101 itself: nothing the Worker can tell apart.
		add(
			"POST with upgrade headers",
			{ method: "POST", lines: [...handshakeLines(), "Content-Length: 0"] },
			{ reject: true, statuses: [404, 405] },
			"handshake",
			{ runtime: "the runtime (it turns the POST into a GET for the Worker)" },
		);
		add("HTTP/1.0", { version: "HTTP/1.0", lines: handshakeLines() }, { reject: true }, "handshake", byProxy);
		add(
			"Sec-WebSocket-Extensions garbage",
			{
				lines: handshakeLines({
					set: { "Sec-WebSocket-Extensions": "permessage-deflate; client_max_window_bits=abc, x;;;" },
				}),
			},
			{},
		);
		add(
			"Sec-WebSocket-Protocol offered",
			{ lines: handshakeLines({ set: { "Sec-WebSocket-Protocol": "chat, \u00ff\u00fe" } }) },
			{},
		);
		const addPath = (label, p, expect) =>
			cases.push({
				socket,
				category: "handshake-auth",
				label,
				bytes: handshake({ host: f.a.host, path: p, lines: handshakeLines() }),
				expect,
			});
		addPath("no token", path, { reject: true, statuses: [401], codes: ["unauthorized"] });
		addPath("?token=garbage", `${path}?token=garbage`, {
			reject: true,
			statuses: [401],
			codes: ["unauthorized"],
		});
		for (const label of [
			"expired 2 min ago",
			"alg none",
			"wrong secret",
			"other tenant's user token",
			"sub lone surrogate",
		])
			addPath(`?token= ${label}`, `${path}?token=${f.tokens.forged[label]}`, {
				reject: true,
				statuses: [401],
			});
		cases.push({
			socket,
			category: "handshake-auth",
			label: "unknown host",
			bytes: handshake({ host: "nobody-fuzz.localhost", path: withToken, lines: handshakeLines() }),
			expect: { reject: true, statuses: [404], codes: ["tenant_not_found"] },
		});
		if (socket === "conversation") {
			for (const after of ["0x10", "-1", "abc", "", "1e1", "1.5", "%20", "99999999999999999999"])
				addPath(`?after=${after}`, `${withToken}&after=${after}`, REFUSE);
			addPath("unknown conversation", `/v1/conversations/g_fuzz_nope/ws?token=${f.tokens.owner}`, {
				reject: true,
				statuses: [404],
				codes: ["conversation_not_found"],
			});
			addPath("a user who is no member", `${path}?token=${f.tokens.outsider}`, {
				reject: true,
				statuses: [404],
				codes: ["conversation_not_found"],
			});
		}
	}
	return cases;
}

/** Frames that break RFC 6455 framing, each on a fresh socket; `expect` "pong" where the frame is valid. */
export function protocolCases() {
	const ping = '{"type":"ping","raw":1}';
	return [
		{
			label: "a valid masked ping frame (control)",
			frames: [clientFrame({ opcode: 1, payload: ping })],
			expect: "pong",
		},
		{
			label: "unmasked client frame",
			frames: [clientFrame({ opcode: 1, payload: ping, mask: false })],
			expect: "close",
		},
		{
			label: "RSV1 set without an extension",
			frames: [clientFrame({ opcode: 1, payload: ping, rsv: 4 })],
			expect: "close",
		},
		{ label: "reserved opcode 3", frames: [clientFrame({ opcode: 3, payload: "x" })], expect: "close" },
		{ label: "reserved opcode 0xB (control)", frames: [clientFrame({ opcode: 0xb })], expect: "close" },
		{
			label: "text frame with invalid UTF-8",
			frames: [clientFrame({ opcode: 1, payload: Buffer.from([0x7b, 0x22, 0xc3, 0x28, 0x22, 0x7d]) })],
			expect: "close-or-error",
		},
		{
			label: "a ping message in two fragments",
			frames: [
				clientFrame({ opcode: 1, payload: '{"type":', fin: false }),
				clientFrame({ opcode: 0, payload: '"ping","frag":1}' }),
			],
			expect: "pong",
		},
		{
			label: "a continuation frame with nothing to continue",
			frames: [clientFrame({ opcode: 0, payload: ping })],
			expect: "close",
		},
		{
			label: "a control ping with a 126-byte payload",
			frames: [clientFrame({ opcode: 9, payload: Buffer.alloc(126) })],
			expect: "close",
		},
		{
			label: "a fragmented control frame",
			frames: [clientFrame({ opcode: 9, payload: "x", fin: false })],
			expect: "close",
		},
		{
			label: "close with code 999",
			frames: [clientFrame({ opcode: 8, payload: Buffer.from([0x03, 0xe7]) })],
			expect: "close",
		},
		{
			label: "close with a 1-byte payload",
			frames: [clientFrame({ opcode: 8, payload: Buffer.from([0x03]) })],
			expect: "close",
		},
		{
			label: "a WebSocket ping control frame",
			frames: [clientFrame({ opcode: 9, payload: "hi" })],
			expect: "control-pong",
		},
		{
			label: "a text frame split across a ping control frame",
			frames: [
				clientFrame({ opcode: 1, payload: '{"type":', fin: false }),
				clientFrame({ opcode: 9, payload: "mid" }),
				clientFrame({ opcode: 0, payload: '"ping","frag":2}' }),
			],
			expect: "pong",
		},
	];
}
