/**
 * Delivered receipts: when a device acks entries, the Conversation objects learn the member's new
 * delivered seq. The inbox keeps one pending row per conversation (the highest acked seq) and sends
 * them from its alarm until each is confirmed, so an unreachable conversation only delays them.
 */
import { rpc } from "../../errors";
import { conversationStub } from "../names";
import type { InboxStore } from "./store";

export const RECEIPTS_WORK = "receipts";
const RECEIPTS_PER_RUN = 50;

export async function sendReceipts(store: InboxStore, env: Env): Promise<boolean> {
	const owner = store.owner;
	const pending = store.pendingReceipts(RECEIPTS_PER_RUN);
	if (!owner || pending.length === 0) return false;
	const results = await Promise.allSettled(
		pending.map(({ conversationId, seq }) =>
			rpc(() => conversationStub(env, owner.tenantId, conversationId).markDelivered(owner.userId, seq)),
		),
	);
	let failed = 0;
	results.forEach((result, i) => {
		const receipt = pending[i];
		if (result.status === "fulfilled" && receipt) store.confirmReceipt(receipt.conversationId, receipt.seq);
		else failed++;
	});
	if (failed > 0) throw new Error(`${failed} of ${pending.length} delivered receipts failed`);
	return store.hasReceipts();
}
