import { exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { createTenant, expectError, UPGRADE_HEADERS, User } from "../test/helpers";

/** The handshake headers with `changes` (a header set to null is left out). */
function handshake(changes: Record<string, string | null>): Record<string, string> {
	const headers: Record<string, string | null> = { ...UPGRADE_HEADERS, ...changes };
	return Object.fromEntries(Object.entries(headers).filter((e): e is [string, string] => e[1] !== null));
}

const MALFORMED: [string, Record<string, string | null>, number, string][] = [
	["no Upgrade", { upgrade: null }, 426, "upgrade_required"],
	["Upgrade: h2c", { upgrade: "h2c" }, 426, "upgrade_required"],
	["Upgrade: websocketx", { upgrade: "websocketx" }, 426, "upgrade_required"],
	["Connection: keep-alive", { connection: "keep-alive" }, 426, "upgrade_required"],
	["no Connection", { connection: null }, 426, "upgrade_required"],
	["no Sec-WebSocket-Version", { "sec-websocket-version": null }, 426, "upgrade_required"],
	...["8", "14", "13abc", "", "13, 8"].map(
		(version) =>
			[
				`Sec-WebSocket-Version ${JSON.stringify(version)}`,
				{ "sec-websocket-version": version },
				426,
				"upgrade_required",
			] as [string, Record<string, string>, number, string],
	),
	["no Sec-WebSocket-Key", { "sec-websocket-key": null }, 400, "bad_request"],
	...[
		["empty", ""],
		["3 chars", "bad"],
		["not base64", "!!!!!!!!!!!!!!!!!!!!!!=="],
		["15 bytes", btoa("x".repeat(15))],
		["17 bytes", btoa("x".repeat(17))],
		["2,000 chars", "k".repeat(2000)],
		["twice", `${UPGRADE_HEADERS["sec-websocket-key"]}, ${btoa("y".repeat(16))}`],
	].map(
		([label, key]) =>
			[`Sec-WebSocket-Key ${label}`, { "sec-websocket-key": key as string }, 400, "bad_request"] as [
				string,
				Record<string, string>,
				number,
				string,
			],
	),
];

describe("the WebSocket handshake", () => {
	it("is checked by the Worker on both sockets: a malformed one gets the error body, never a 101", async () => {
		const alice = await User.create(await createTenant(), "alice");
		const group = await alice.createGroup(["bob"]);
		for (const path of [`/v1/conversations/${group.id}/ws`, "/v1/inbox/ws"]) {
			for (const [label, changes, status, code] of MALFORMED) {
				const refused = await alice.call(path, { headers: handshake(changes) });
				expect(refused.webSocket, `${path} ${label}`).toBeNull();
				await expectError(refused, status, code);
				if (status === 426 && label.includes("Version"))
					expect(refused.headers.get("sec-websocket-version")).toBe("13");
				else if (status === 426) expect(refused.headers.get("upgrade")).toBe("websocket");
			}
			// Token lists and case are as the RFCs allow.
			const ok = await alice.call(path, {
				headers: handshake({ upgrade: "WebSocket", connection: "keep-alive, Upgrade" }),
			});
			expect(ok.status).toBe(101);
			ok.webSocket?.accept();
			ok.webSocket?.close();
		}
	});

	it("that is malformed opens no socket: the room announces no presence for it", async () => {
		const tenant = await createTenant();
		const alice = await User.create(tenant, "alice");
		const bob = await User.create(tenant, "bob");
		const group = await alice.createGroup(["bob"]);
		const watcher = await alice.connect(group.id);
		await watcher.next("ready");
		for (const [, changes] of MALFORMED)
			await bob.call(`/v1/conversations/${group.id}/ws`, { headers: handshake(changes) });
		const real = await bob.connect(group.id);
		await real.next("ready");
		// The first presence alice sees is bob's real socket.
		expect(await watcher.next("presence")).toEqual({ type: "presence", userId: "bob", online: true });
		real.close();
		expect(await watcher.next("presence")).toEqual({ type: "presence", userId: "bob", online: false });
		await watcher.flush();
		expect(watcher.frames.filter((f) => f.type === "presence")).toEqual([]);
		watcher.close();
	});

	it("on HTTP/1.0 is refused (the runtime tells the protocol in request.cf)", async () => {
		const alice = await User.create(await createTenant(), "alice");
		const refused = await exports.default.fetch(
			new Request(`http://${alice.tenant.host}/v1/inbox/ws`, {
				headers: { ...UPGRADE_HEADERS, authorization: `Bearer ${alice.token}` },
				cf: { httpProtocol: "HTTP/1.0" },
			}),
		);
		await expectError(refused, 400, "bad_request");
	});
});
