/** Test harness for offline delivery: inboxes, conversation lists and forcing the outboxes to drain. */
import { runDurableObjectAlarm } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { INBOX_WORK } from "../src/objects/conversation/deliver";
import { RECEIPTS_WORK } from "../src/objects/inbox/receipts";
import { conversationStub, inboxStub } from "../src/objects/names";
import type { ConversationSummary, InboxEntry } from "../src/protocol";
import { json, Socket, type TestTenant, type User } from "./helpers";
import { makeDue } from "./work";

type WorkStub = ReturnType<typeof conversationStub> | ReturnType<typeof inboxStub>;

/**
 * Runs the object's alarm until no work of `kind` is left, whatever backoff a failure put it in (a
 * test does not wait out a backoff). The runtime may fire the same alarm meanwhile; both runs are
 * idempotent, which is part of what the tests check.
 */
async function drainWork(stub: WorkStub, kind: string): Promise<void> {
	for (let round = 0; round < 200; round++) {
		const due = await makeDue(stub as DurableObjectStub, kind);
		if (due === null) return;
		if (!(await runDurableObjectAlarm(stub))) {
			// The runtime is running the alarm right now: let it finish before looking again.
			await new Promise((resolve) => setTimeout(resolve, 10));
		}
	}
	throw new Error(`work ${kind} did not drain`);
}

/** Delivers everything the conversation owes its members' inboxes. */
export function drainOutbox(tenant: TestTenant, conversationId: string): Promise<void> {
	return drainWork(conversationStub(env, tenant.id, conversationId), INBOX_WORK);
}

/** Sends the delivered receipts the user's inbox owes the conversations. */
export function drainReceipts(user: User): Promise<void> {
	return drainWork(inboxStub(env, user.tenant.id, user.id), RECEIPTS_WORK);
}

export async function inboxOf(
	user: User,
	query = "",
): Promise<{ entries: InboxEntry[]; nextCursor: number | null }> {
	return json(await user.call(`/v1/inbox${query}`), 200);
}

export async function ack(user: User, cursor: number): Promise<void> {
	const response = await user.call("/v1/inbox/ack", { body: { cursor } });
	if (response.status !== 204) throw new Error(`ack answered ${response.status}: ${await response.text()}`);
}

export async function conversationsOf(
	user: User,
	query = "",
): Promise<{ conversations: ConversationSummary[]; nextCursor: string | null }> {
	return json(await user.call(`/v1/conversations${query}`), 200);
}

export function connectInbox(user: User): Promise<Socket> {
	return Socket.open(user.tenant.host, "/v1/inbox/ws", user.token);
}
