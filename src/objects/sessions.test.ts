/**
 * Sockets outlive nothing they should not: on both sockets, a socket whose token expired, whose
 * signing key was revoked, or (conversation) whose member was removed gets `session.ended` with the
 * close code of the error table, then nothing more; its client closes it (the connection then ends at
 * once, bench/close-delay/README.md), and a client that does not is closed by the server after the
 * grace.
 */
import { runDurableObjectAlarm } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import {
	ADMIN_KEY,
	call,
	createTenant,
	type Frame,
	json,
	Socket,
	type TestTenant,
	User,
} from "../../test/helpers";
import { scheduleNow } from "../../test/work";
import { TUNING } from "../config";
import { conversationStub, inboxStub } from "./names";
import { SESSION_EXPIRES_HEADER, SESSIONS_WORK } from "./sessions";

/** A raw socket on an object, opened as the Worker opens one, that records frames and its close. */
async function openOnObject(stub: DurableObjectStub, url: string, headers: Record<string, string>) {
	const response = await stub.fetch(url, { headers: { Upgrade: "websocket", ...headers } });
	const ws = response.webSocket as WebSocket;
	ws.accept();
	const frames: Frame[] = [];
	ws.addEventListener("message", (event) => frames.push(JSON.parse(String(event.data)) as Frame));
	const closed = new Promise<number>((resolve) =>
		ws.addEventListener("close", (event) => resolve(event.code)),
	);
	return { ws, frames, closed };
}

function openInbox(tenant: TestTenant, userId: string, expiresAt: number) {
	return openOnObject(inboxStub(env, tenant.id, userId), "https://inbox/ws", {
		"x-edgechat-tenant": tenant.id,
		"x-edgechat-user": userId,
		[SESSION_EXPIRES_HEADER]: String(expiresAt),
	});
}

async function until(condition: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
	const deadline = Date.now() + timeoutMs;
	while (!condition()) {
		if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
		await new Promise((resolve) => setTimeout(resolve, 10));
	}
}

const ended = (code: string, closeCode: number) =>
	expect.objectContaining({ type: "session.ended", code, closeCode, message: expect.any(String) });

describe("an inbox socket whose token expires", () => {
	it("is told by the alarm, even when it only reads, and its client's close ends it", async () => {
		const tenant = await createTenant();
		const bob = await User.create(tenant, "bob");
		const stub = inboxStub(env, tenant.id, "bob");
		const reader = await openInbox(tenant, "bob", Date.now() + 300);
		const fresh = await Socket.open(tenant.host, "/v1/inbox/ws", bob.token); // valid for a day
		await fresh.next("ready");
		await new Promise((resolve) => setTimeout(resolve, 350));
		await runDurableObjectAlarm(stub);
		await until(() => reader.frames.some((f) => f.type === "session.ended"), "session.ended");
		expect(reader.frames.at(-1)).toEqual(ended("unauthorized", 4401));
		reader.ws.close(4401, "unauthorized");
		expect(await reader.closed).toBe(4401);
		expect(fresh.closeEvent).toBeNull();
		fresh.close();
	});

	it("has its frames refused once expired, and is closed by the server when its client does not close", async () => {
		const tenant = await createTenant();
		const late = await openInbox(tenant, "bob", Date.now() - 1);
		await until(() => late.frames.some((f) => f.type === "ready"), "ready");
		late.ws.send(JSON.stringify({ type: "inbox.ack", cursor: 0 }));
		late.ws.send(JSON.stringify({ type: "ping", spelled: "otherwise" }));
		await until(() => late.frames.some((f) => f.type === "session.ended"), "session.ended");
		// Told once; what it sends after is ignored (no pong).
		await new Promise((resolve) => setTimeout(resolve, 100));
		expect(late.frames.map((f) => f.type)).toEqual(["ready", "session.ended"]);
		// The client ignores it: the alarm closes it once the grace is over.
		await new Promise((resolve) => setTimeout(resolve, TUNING.sessionEndGraceMs + 100));
		const stub = inboxStub(env, tenant.id, "bob");
		await scheduleNow(stub, SESSIONS_WORK);
		await runDurableObjectAlarm(stub);
		expect(await late.closed).toBe(4401);
	});
});

describe("a socket whose signing key is revoked", () => {
	async function rotated() {
		const tenant = await createTenant();
		const alice = await User.create(tenant, "alice"); // signed with the tenant's first key
		const group = await alice.createGroup(["bob"]);
		const rotation = await call("platform.test", `/platform/v1/tenants/${tenant.id}/signing-keys`, {
			token: ADMIN_KEY,
			method: "POST",
		});
		await json(rotation, 201);
		const bob = await User.create(tenant, "bob"); // signed with the new key
		return { tenant, alice, bob, group };
	}

	const revoke = async (tenant: TestTenant) =>
		expect(
			(
				await call("platform.test", `/platform/v1/tenants/${tenant.id}/signing-keys/${tenant.signingKeyId}`, {
					token: ADMIN_KEY,
					method: "DELETE",
				})
			).status,
		).toBe(204);

	it("is ended with 4401 when it next acts, on the inbox and on a conversation, and other keys' are not", async () => {
		const { tenant, alice, bob, group } = await rotated();
		const aliceInbox = await Socket.open(tenant.host, "/v1/inbox/ws", alice.token);
		const aliceRoom = await alice.connect(group.id);
		const bobInbox = await Socket.open(tenant.host, "/v1/inbox/ws", bob.token);
		const bobRoom = await bob.connect(group.id);
		for (const socket of [aliceInbox, aliceRoom, bobInbox, bobRoom]) await socket.next("ready");
		await revoke(tenant);

		// The frame that reveals the revocation is handled; the session then ends.
		for (const socket of [aliceInbox, aliceRoom]) {
			socket.send({ type: "ping", spelled: "otherwise" });
			expect(await socket.next("session.ended")).toEqual(ended("unauthorized", 4401));
			expect((await socket.closed()).code).toBe(4401);
		}
		for (const socket of [bobInbox, bobRoom]) {
			await socket.flush();
			expect(socket.closeEvent).toBeNull();
			socket.close();
		}
		// And a new socket with that token is refused by the Worker.
		const refused = await call(tenant.host, "/v1/inbox/ws", {
			token: alice.token,
			headers: { upgrade: "websocket" },
		});
		expect(refused.status).toBe(401);
	});

	it("is ended by the sweep when it stays silent", async () => {
		const { tenant, alice, group } = await rotated();
		const inbox = await Socket.open(tenant.host, "/v1/inbox/ws", alice.token);
		const room = await alice.connect(group.id);
		await inbox.next("ready");
		await room.next("ready");
		await revoke(tenant);
		// The sweep is due every TUNING.revocationSweepMs while sockets are open; make it due now.
		for (const stub of [inboxStub(env, tenant.id, "alice"), conversationStub(env, tenant.id, group.id)]) {
			await scheduleNow(stub as unknown as DurableObjectStub, SESSIONS_WORK);
			await runDurableObjectAlarm(stub);
		}
		expect(await inbox.next("session.ended")).toEqual(ended("unauthorized", 4401));
		expect(await room.next("session.ended")).toEqual(ended("unauthorized", 4401));
		expect((await inbox.closed()).code).toBe(4401);
		expect((await room.closed()).code).toBe(4401);
	});
});

describe("a removed member's conversation socket", () => {
	it("gets session.ended 4403 and nothing after it, and is closed by the server if its client does not close", async () => {
		const tenant = await createTenant();
		const alice = await User.create(tenant, "alice");
		const bob = await User.create(tenant, "bob");
		const group = await alice.createGroup(["bob"]);
		const ignoring = await Socket.open(
			tenant.host,
			`/v1/conversations/${group.id}/ws`,
			bob.token,
			{},
			{
				closesWhenTold: false,
			},
		);
		const closing = await bob.connect(group.id);
		await ignoring.next("ready");
		await closing.next("ready");
		const removed = await alice.call(`/v1/conversations/${group.id}/members/bob`, { method: "DELETE" });
		expect(removed.status).toBe(204);
		expect(await closing.next("session.ended")).toEqual(ended("removed_from_conversation", 4403));
		expect((await closing.closed()).code).toBe(4403);

		expect(await ignoring.next("session.ended")).toEqual(ended("removed_from_conversation", 4403));
		await alice.send(group.id, "not for bob");
		ignoring.send({ type: "message.send", clientId: "after", text: "ignored" });
		expect((await ignoring.closed(TUNING.sessionEndGraceMs + 5000)).code).toBe(4403);
		expect(ignoring.frames.map((f) => f.type)).not.toContain("message.created");
		expect((await alice.history(group.id)).messages.map((m) => m.text)).toEqual(["not for bob"]);
	});
});
