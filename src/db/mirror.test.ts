import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { call, createUnlimitedTenant, expectError, json, User } from "../../test/helpers";
import {
	drainMirror,
	mirroredMembers,
	mirroredSeqs,
	mirrorStatus,
	runMirrorOnce,
	sendMany,
	setMirrorFault,
	stubOf,
} from "../../test/mirror";
import type { MessageRow } from "../message-row";
import { MIRROR_WORK } from "../objects/conversation/mirror";
import type { MirrorStatus } from "../protocol";
import { chunkRows, MAX_BOUND_PARAMETERS, mirrorStatements } from "./mirror";

const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

describe("the D1 history mirror", () => {
	it("copies messages, the conversation and its members into D1", async () => {
		const tenant = await createUnlimitedTenant();
		const alice = await User.create(tenant, "alice");
		const group = await alice.createGroup(["bob", "carol"], "Mirrored");
		await sendMany(alice, group.id, 20);
		const status = await drainMirror(tenant, group.id);
		expect(status).toMatchObject({ lastSeq: 20, mirroredSeq: 20, pendingMessages: 0, lagMs: 0 });

		expect(await mirroredSeqs(tenant, group.id)).toEqual(range(1, 20));
		expect(await mirroredMembers(tenant, group.id)).toEqual(["alice", "bob", "carol"]);
		const row = await env.DB.prepare(
			"SELECT type, title, created_by, last_seq FROM mirrored_conversations WHERE tenant_id = ? AND conversation_id = ?",
		)
			.bind(tenant.id, group.id)
			.first();
		expect(row).toEqual({ type: "group", title: "Mirrored", created_by: "alice", last_seq: 20 });
		const history = await alice.history(group.id);
		const mirrored = await env.DB.prepare(
			"SELECT id, text, sender_id FROM mirrored_messages WHERE tenant_id = ? AND conversation_id = ? ORDER BY seq",
		)
			.bind(tenant.id, group.id)
			.all<{ id: string; text: string; sender_id: string }>();
		expect(mirrored.results).toEqual(
			history.messages.map((m) => ({ id: m.id, text: m.text, sender_id: m.senderId })),
		);
	});

	it("follows membership changes: members added, removed, and the owner handing over", async () => {
		const tenant = await createUnlimitedTenant();
		const alice = await User.create(tenant, "alice");
		const bob = await User.create(tenant, "bob");
		const group = await alice.createGroup(["bob"]);
		await drainMirror(tenant, group.id);
		expect(await mirroredMembers(tenant, group.id)).toEqual(["alice", "bob"]);

		await json(
			await alice.call(`/v1/conversations/${group.id}/members`, { body: { userIds: ["carol", "dave"] } }),
			200,
		);
		expect((await mirrorStatus(tenant, group.id)).membersPending).toBe(true);
		await drainMirror(tenant, group.id);
		expect(await mirroredMembers(tenant, group.id)).toEqual(["alice", "bob", "carol", "dave"]);

		expect(
			(await alice.call(`/v1/conversations/${group.id}/members/carol`, { method: "DELETE" })).status,
		).toBe(204);
		expect(
			(await alice.call(`/v1/conversations/${group.id}/members/alice`, { method: "DELETE" })).status,
		).toBe(204);
		await drainMirror(tenant, group.id);
		expect(await mirroredMembers(tenant, group.id)).toEqual(["bob", "dave"]);
		const roles = await env.DB.prepare(
			"SELECT user_id, role FROM mirrored_members WHERE tenant_id = ? AND conversation_id = ? ORDER BY user_id",
		)
			.bind(tenant.id, group.id)
			.all();
		const view = await json<{ conversation: { members: { userId: string; role: string }[] } }>(
			await bob.call(`/v1/conversations/${group.id}`),
			200,
		);
		expect(roles.results).toEqual(
			view.conversation.members
				.map((m) => ({ user_id: m.userId, role: m.role }))
				.sort((a, b) => (a.user_id < b.user_id ? -1 : 1)),
		);
	});

	it("keeps chat working while D1 fails, then catches up with nothing lost or doubled", async () => {
		const tenant = await createUnlimitedTenant();
		const alice = await User.create(tenant, "alice");
		const bob = await User.create(tenant, "bob");
		const group = await alice.createGroup(["bob"]);
		await drainMirror(tenant, group.id);
		await setMirrorFault(tenant, group.id, "down");

		// Chat goes on over HTTP and over a socket while every mirror attempt fails.
		await sendMany(alice, group.id, 15);
		const ws = await bob.connect(group.id);
		await ws.next("ready");
		for (let i = 0; i < 10; i++)
			ws.send({ type: "message.send", clientId: `ws-${i}`, text: `from the socket ${i}` });
		for (let i = 0; i < 10; i++) expect((await ws.next("message.ack")).duplicate).toBe(false);
		ws.close();
		await runMirrorOnce(tenant, group.id);
		await runMirrorOnce(tenant, group.id);

		const failing: MirrorStatus = await mirrorStatus(tenant, group.id);
		expect(failing).toMatchObject({ lastSeq: 25, mirroredSeq: 0, pendingMessages: 25 });
		expect(failing.failingSince).not.toBeNull();
		expect(failing.lastError).toMatch(/unavailable/);
		expect(failing.attempts).toBeGreaterThanOrEqual(1);
		expect(failing.oldestPendingAt).not.toBeNull();
		expect(failing.nextAttemptAt).not.toBeNull();
		expect(await mirroredSeqs(tenant, group.id)).toEqual([]);
		expect((await bob.history(group.id)).messages.map((m) => m.seq)).toEqual(range(1, 25));

		await setMirrorFault(tenant, group.id, null);
		const caughtUp = await drainMirror(tenant, group.id);
		expect(caughtUp).toMatchObject({
			mirroredSeq: 25,
			pendingMessages: 0,
			failingSince: null,
			lastError: null,
		});
		expect(await mirroredSeqs(tenant, group.id)).toEqual(range(1, 25));
	});

	it("answers its status while a drain is running, with no next attempt scheduled", async () => {
		const tenant = await createUnlimitedTenant();
		const alice = await User.create(tenant, "alice");
		const group = await alice.createGroup([]);
		await alice.send(group.id, "pending");
		// As WorkQueue.run parks a kind while its handler runs (the fuzz caught a status read then).
		await runInDurableObject(stubOf(tenant, group.id), (_instance, state) => {
			state.storage.sql.exec("UPDATE due_work SET due_at = ? WHERE kind = 'mirror'", Number.MAX_SAFE_INTEGER);
		});
		const running = await json<{ mirror: MirrorStatus }>(
			await call(tenant.host, `/v1/admin/conversations/${group.id}/mirror`, { token: tenant.apiKey }),
			200,
		);
		expect(running.mirror).toMatchObject({ pendingMessages: 1, nextAttemptAt: null });
	});

	it("inserts nothing twice when a drain is replayed after D1 committed but its answer was lost", async () => {
		const tenant = await createUnlimitedTenant();
		const alice = await User.create(tenant, "alice");
		const group = await alice.createGroup(["bob"]);
		await drainMirror(tenant, group.id);
		await setMirrorFault(tenant, group.id, "lose-ack");
		await sendMany(alice, group.id, 12);
		await runMirrorOnce(tenant, group.id);
		await runMirrorOnce(tenant, group.id);
		// D1 has the rows, but the object does not know it: the same batch will be written again.
		expect(await mirroredSeqs(tenant, group.id)).toEqual(range(1, 12));
		expect((await mirrorStatus(tenant, group.id)).pendingMessages).toBe(12);

		await setMirrorFault(tenant, group.id, null);
		await drainMirror(tenant, group.id);
		expect(await mirroredSeqs(tenant, group.id)).toEqual(range(1, 12));
		const fts = await env.DB.prepare(
			`SELECT COUNT(*) AS n FROM mirrored_messages_fts f JOIN mirrored_messages m ON m.doc_id = f.rowid
			 WHERE m.tenant_id = ? AND m.conversation_id = ? AND mirrored_messages_fts MATCH 'bulk'`,
		)
			.bind(tenant.id, group.id)
			.first<{ n: number }>();
		expect(fts?.n).toBe(12);
	});

	it("drains a backlog larger than one batch, in order and complete", async () => {
		const tenant = await createUnlimitedTenant();
		const alice = await User.create(tenant, "alice");
		const group = await alice.createGroup(["bob"]);
		await setMirrorFault(tenant, group.id, "down");
		await sendMany(alice, group.id, 700, 25);
		await setMirrorFault(tenant, group.id, null);
		await drainMirror(tenant, group.id);
		expect(await mirroredSeqs(tenant, group.id)).toEqual(range(1, 700));
	});
});

describe("mirror statements", () => {
	it("bind at most 100 parameters each, whatever the batch and member count", () => {
		expect(chunkRows(range(1, 17), 12).map((c) => c.length)).toEqual([8, 8, 1]);
		expect(chunkRows(range(1, 100), 5).map((c) => c.length)).toEqual([20, 20, 20, 20, 20]);
		const message = (seq: number): MessageRow => ({
			seq,
			id: `m${seq}`,
			sender_id: "a",
			client_id: `c${seq}`,
			text: "x",
			attachments: "[]",
			reply_to: null,
			created_at: 1,
			edited_at: null,
			deleted_at: null,
		});
		// The number of `?` in each statement is what D1 counts.
		const counted: string[] = [];
		const fakeDb = {
			prepare(sql: string) {
				counted.push(sql);
				return { bind: () => ({}) };
			},
		} as unknown as D1Database;
		mirrorStatements(fakeDb, {
			tenantId: "t",
			conversation: {
				conversationId: "c",
				type: "group",
				title: null,
				createdBy: "a",
				createdAt: 1,
				lastSeq: 320,
			},
			members: range(1, 100).map((i) => ({ userId: `u${i}`, role: "member", joinedAt: 1 })),
			messages: range(1, 320).map(message),
		});
		const parameters = counted.map((sql) => sql.split("?").length - 1);
		expect(Math.max(...parameters)).toBeLessThanOrEqual(MAX_BOUND_PARAMETERS);
		expect(parameters.reduce((a, b) => a + b, 0)).toBe(8 + 2 + 100 * 5 + 320 * 12);
	});
});

describe("the mirror status, for operators", () => {
	it("is served to the tenant's backend with its API key only", async () => {
		const tenant = await createUnlimitedTenant();
		const alice = await User.create(tenant, "alice");
		const group = await alice.createGroup(["bob"]);
		await setMirrorFault(tenant, group.id, "down");
		await alice.send(group.id, "pending");
		await runMirrorOnce(tenant, group.id);
		const path = `/v1/admin/conversations/${group.id}/mirror`;
		const { mirror } = await json<{ mirror: MirrorStatus }>(
			await call(tenant.host, path, { token: tenant.apiKey }),
			200,
		);
		expect(mirror).toMatchObject({
			conversationId: group.id,
			lastSeq: 1,
			mirroredSeq: 0,
			pendingMessages: 1,
		});
		expect(mirror.lagMs).toBeGreaterThanOrEqual(0);
		expect(mirror.lastError).toMatch(/unavailable/);

		await expectError(await alice.call(path), 401, "unauthorized");
		await expectError(await call(tenant.host, path), 401, "unauthorized");
		await expectError(
			await call(tenant.host, "/v1/admin/conversations/g_unknown/mirror", { token: tenant.apiKey }),
			404,
			"conversation_not_found",
		);
		await setMirrorFault(tenant, group.id, null);
	});

	it("answers while a drain is running: draining, with no next attempt time", async () => {
		const tenant = await createUnlimitedTenant();
		const alice = await User.create(tenant, "alice");
		const group = await alice.createGroup(["bob"]);
		await alice.send(group.id, "in flight");
		// The state the work queue keeps while the drain's D1 write is in flight (a status read then
		// interleaves with it); it used to answer 500 "Invalid time value".
		await runInDurableObject(stubOf(tenant, group.id), (_object, state) => {
			state.storage.sql.exec(
				"UPDATE due_work SET due_at = ? WHERE kind = ?",
				Number.MAX_SAFE_INTEGER,
				MIRROR_WORK,
			);
		});
		const path = `/v1/admin/conversations/${group.id}/mirror`;
		const { mirror } = await json<{ mirror: MirrorStatus }>(
			await call(tenant.host, path, { token: tenant.apiKey }),
			200,
		);
		expect(mirror).toMatchObject({ pendingMessages: 1, draining: true, nextAttemptAt: null });
		// The drain that was cut off runs again, and the status then says caught up.
		const status = await drainMirror(tenant, group.id);
		expect(status).toMatchObject({ pendingMessages: 0, draining: false, nextAttemptAt: null });
	});
});
