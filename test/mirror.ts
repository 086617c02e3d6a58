/** Harness for the mirror tests: drive a conversation's alarm until D1 has caught up, and read D1. */
import { runDurableObjectAlarm } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { rpc } from "../src/errors";
import { MIRROR_WORK } from "../src/objects/conversation/mirror";
import { conversationStub } from "../src/objects/names";
import type { MirrorStatus } from "../src/protocol";
import { json, type TestTenant, type User } from "./helpers";
import { scheduleNow } from "./work";

export function stubOf(tenant: TestTenant, conversationId: string) {
	return conversationStub(env, tenant.id, conversationId);
}

export function mirrorStatus(tenant: TestTenant, conversationId: string): Promise<MirrorStatus> {
	return rpc(() => stubOf(tenant, conversationId).mirrorStatus());
}

/** Makes the mirror work due now (as time passing would) and runs the alarm once. */
export async function runMirrorOnce(tenant: TestTenant, conversationId: string): Promise<void> {
	const stub = stubOf(tenant, conversationId);
	await scheduleNow(stub, MIRROR_WORK);
	await runDurableObjectAlarm(stub);
}

/** Runs the mirror until D1 holds everything the conversation has. */
export async function drainMirror(tenant: TestTenant, conversationId: string): Promise<MirrorStatus> {
	for (let round = 0; round < 100; round++) {
		const status = await mirrorStatus(tenant, conversationId);
		if (status.pendingMessages === 0 && !status.membersPending) return status;
		await runMirrorOnce(tenant, conversationId);
	}
	throw new Error("the mirror did not catch up in 100 rounds");
}

export async function setMirrorFault(
	tenant: TestTenant,
	conversationId: string,
	fault: "down" | "lose-ack" | null,
): Promise<void> {
	await stubOf(tenant, conversationId).setMirrorFault(fault);
}

/** The seqs D1 holds for a conversation, ascending, duplicates included. */
export async function mirroredSeqs(tenant: TestTenant, conversationId: string): Promise<number[]> {
	const { results } = await env.DB.prepare(
		"SELECT seq FROM mirrored_messages WHERE tenant_id = ? AND conversation_id = ? ORDER BY seq",
	)
		.bind(tenant.id, conversationId)
		.all<{ seq: number }>();
	return results.map((r) => r.seq);
}

export async function mirroredMembers(tenant: TestTenant, conversationId: string): Promise<string[]> {
	const { results } = await env.DB.prepare(
		"SELECT user_id FROM mirrored_members WHERE tenant_id = ? AND conversation_id = ? ORDER BY user_id",
	)
		.bind(tenant.id, conversationId)
		.all<{ user_id: string }>();
	return results.map((r) => r.user_id);
}

/** Sends `count` messages, `parallel` at a time (the tenant must allow the rate). */
export async function sendMany(
	user: User,
	conversationId: string,
	count: number,
	parallel = 16,
): Promise<void> {
	for (let start = 0; start < count; start += parallel) {
		const batch = Array.from({ length: Math.min(parallel, count - start) }, (_, i) =>
			user
				.call(`/v1/conversations/${conversationId}/messages`, {
					body: { clientId: `bulk-${start + i}`, text: `bulk message ${start + i}` },
				})
				.then((response) => json(response, 201)),
		);
		await Promise.all(batch);
	}
}
