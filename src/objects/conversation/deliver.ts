/**
 * Offline delivery: drains the inbox outbox (outbox.ts) from the alarm, never inline in a message
 * handler. One batched RPC per member's inbox per drain, carrying the messages the member had no
 * open socket for and a fresh snapshot of their row of the conversation list; a member whose inbox
 * fails keeps its watermark and backs off on its own (exponential, with jitter), while the others
 * move on. The inbox skips what it already holds, so a retry never doubles anything.
 */
import { rpc } from "../../errors";
import type { ConversationSummary, Message, Role } from "../../protocol";
import type { InboxBatch } from "../inbox/batch";
import { backoffMs } from "../work-queue";
import type { SyncRow } from "./outbox";
import type { Room } from "./room";
import type { ConversationStore } from "./store";

export const INBOX_WORK = "inbox";

/**
 * A message's drain waits this long for the messages that follow it, so a busy room sends one RPC
 * per inbox for several messages rather than one each; under load the drains run back to back and
 * batch by themselves. Measured in docs/benchmarks.md ("catch-up"): at 100 msg/s over 10 rooms it
 * roughly doubles the sustainable send rate on the dev machine, for at most this much added lag.
 */
export const DELIVERY_COALESCE_MS = 50;

/**
 * When every member has the conversation open, a message owes their inboxes only the new row of the
 * conversation list (last message, unread count) and the sockets a delivered receipt: those wait up
 * to this long, so a busy room refreshes 100 lists once a second rather than once per drain.
 */
export const INDEX_COALESCE_MS = 1000;

/**
 * In the synchronous block that stored the message: one outbox row naming the members with no open
 * socket on the conversation (the sender has the message already), then the drain is due.
 */
export function queueDelivery(room: Room, message: Message): void {
	const online = room.sockets.online();
	const offline: string[] = [];
	for (const userId of room.store.members.keys()) {
		if (userId !== message.senderId && !online.has(userId)) offline.push(userId);
	}
	room.outbox.messageStored(message.seq, message.senderId, offline);
	room.work.schedule(
		INBOX_WORK,
		Date.now() + (offline.length > 0 ? DELIVERY_COALESCE_MS : INDEX_COALESCE_MS),
	);
}

/** The users' rows of the conversation list changed (created, added, read): their inboxes are owed it. */
export function queueIndexUpdate(room: Room, userIds: Iterable<string>): void {
	const ids = [...userIds];
	if (ids.length === 0) return;
	room.outbox.touch(ids, room.store.lastSeq);
	room.work.schedule(INBOX_WORK);
}

export function roleSnapshot(store: ConversationStore): Map<string, Role> {
	return new Map([...store.members.values()].map((member) => [member.userId, member.role]));
}

/** A member left or was removed; whoever inherited a role by it has a new row too. */
export function queueRemoval(room: Room, userId: string, rolesBefore: Map<string, Role>): void {
	room.outbox.removed(userId, room.store.lastSeq);
	const changed = [...room.store.members.values()]
		.filter((member) => rolesBefore.get(member.userId) !== member.role)
		.map((member) => member.userId);
	if (changed.length > 0) room.outbox.touch(changed, room.store.lastSeq);
	room.work.schedule(INBOX_WORK);
}

/** Messages per member per drain: bounds the RPC size (a message is at most ~16 KiB of text). */
export const ENTRIES_PER_DRAIN = 256;

/** Outbox rows read per drain: a row is a few bytes when it names nobody offline. */
export const ROWS_PER_DRAIN = 4096;

interface Plan {
	user: SyncRow;
	upto: number;
	batch: InboxBatch;
}

/** What the WorkQueue is told after a drain: nothing owed, owed now, or owed at a member's retry time. */
function nextDrain(room: Room): boolean | number {
	const at = room.outbox.nextDue(room.store.lastSeq);
	if (at === null) return false;
	return at <= Date.now() ? true : at;
}

export async function drainInboxes(room: Room): Promise<boolean | number> {
	const { store, outbox } = room;
	const meta = store.meta;
	if (!meta) return false;
	const head = store.lastSeq;
	const now = Date.now();
	const pending = outbox.pending(head).filter((user) => user.retryAt <= now);
	if (pending.length === 0) {
		outbox.prune();
		return nextDrain(room);
	}
	const version = outbox.nextVersion();
	const lastMessage = head > 0 ? (store.messagesBefore(head + 1, 1)[0] ?? null) : null;

	// Members that are equally far behind (usually all of them) share one read of the outbox.
	const groups = new Map<number, SyncRow[]>();
	for (const user of pending) groups.set(user.seq, [...(groups.get(user.seq) ?? []), user]);

	const plans: Plan[] = [];
	const liveDeliveries: { userId: string; seq: number }[] = [];
	for (const [from, users] of groups) {
		// Rows that only record live deliveries cost nothing to skip, so a busy room where everyone is
		// online moves every member to the head in one drain; entries are capped per member instead.
		const rows = outbox.rowsAfter(from, ROWS_PER_DRAIN);
		const groupUpto = rows.length === ROWS_PER_DRAIN ? (rows.at(-1)?.seq ?? head) : head;
		const perUser = users.map((user) => {
			const entrySeqs: number[] = [];
			let upto = groupUpto;
			let liveSeq = 0;
			for (const row of rows) {
				if (row.offline.has(user.userId)) {
					if (entrySeqs.length === ENTRIES_PER_DRAIN) {
						upto = row.seq - 1;
						break;
					}
					entrySeqs.push(row.seq);
				} else if (row.senderId !== user.userId) liveSeq = row.seq;
			}
			return { user, entrySeqs, upto, liveSeq };
		});
		const messages = store.messagesBySeq(new Set(perUser.flatMap((u) => u.entrySeqs)));
		for (const { user, entrySeqs, upto, liveSeq } of perUser) {
			const member = user.removed ? undefined : store.members.get(user.userId);
			// A member not named offline had an open socket when the message was stored: it got it live.
			if (member && liveSeq > 0) {
				const moved = advanceDelivered(room, user.userId, liveSeq);
				if (moved) liveDeliveries.push(moved);
			}
			plans.push({
				user,
				upto,
				batch: {
					owner: { tenantId: meta.tenantId, userId: user.userId },
					conversationId: meta.conversationId,
					version,
					entries: entrySeqs.flatMap((seq) => messages.get(seq) ?? []),
					index: member ? summarize(store, user, lastMessage) : null,
				},
			});
		}
	}

	announceDeliveries(room, liveDeliveries);
	const results = await Promise.allSettled(
		plans.map((plan) => rpc(() => room.inboxOf(plan.user.userId).apply(plan.batch))),
	);
	// From here on synchronous: other events ran during the await, so the confirmations only raise
	// watermarks and clear the dirty counters that did not move meanwhile.
	results.forEach((result, i) => {
		const plan = plans[i];
		if (!plan) return;
		if (result.status === "fulfilled") {
			outbox.confirm(plan.user.userId, plan.upto, plan.user.dirty);
			return;
		}
		const attempts = plan.user.attempts + 1;
		outbox.failed(plan.user.userId, attempts, Date.now() + backoffMs(attempts));
		console.error(`inbox delivery to ${plan.user.userId} failed (attempt ${attempts})`, result.reason);
	});
	outbox.prune();
	return nextDrain(room);
}

/** The member's row of the conversation list as of now. */
function summarize(
	store: ConversationStore,
	user: SyncRow,
	lastMessage: Message | null,
): ConversationSummary {
	const meta = store.meta;
	const member = store.members.get(user.userId);
	if (!meta || !member) throw new Error("summarize needs a member of an existing conversation");
	// Unread: messages from others after what the member read, not counting history from before joining.
	const since = Math.max(member.readSeq, user.joinedSeq);
	const unreadCount = Math.max(0, store.lastSeq - since - store.countSentAfter(user.userId, since));
	const lastAt = lastMessage ? Date.parse(lastMessage.createdAt) : 0;
	return {
		id: meta.conversationId,
		type: meta.type,
		title: meta.title,
		role: member.role,
		createdAt: new Date(meta.createdAt).toISOString(),
		updatedAt: new Date(Math.max(lastAt, member.joinedAt)).toISOString(),
		lastSeq: store.lastSeq,
		lastMessage,
		readSeq: member.readSeq,
		unreadCount,
	};
}

/** Moves the member's delivered watermark forward (never back) and tells the room when it moved. */
export function markDelivered(room: Room, userId: string, seq: number): void {
	const moved = advanceDelivered(room, userId, seq);
	if (moved) room.out.broadcast({ type: "delivered.updated", ...moved });
}

/** Moves the watermark without telling anyone; answers the move, if there was one. */
function advanceDelivered(room: Room, userId: string, seq: number): { userId: string; seq: number } | null {
	const capped = Math.min(seq, room.store.lastSeq);
	return room.store.advance("delivered", userId, capped) ? { userId, seq: capped } : null;
}

/**
 * Receipts of the members who got messages live, gathered over one drain: a busy 100-member room
 * moves 99 watermarks a drain, and one `deliveries.updated` frame per socket carries them all where
 * 99 `delivered.updated` frames each would cost the room a burst of ~10,000 sends.
 */
function announceDeliveries(room: Room, moves: { userId: string; seq: number }[]): void {
	const [only] = moves;
	if (moves.length === 1 && only) room.out.broadcast({ type: "delivered.updated", ...only });
	else if (moves.length > 1) room.out.broadcast({ type: "deliveries.updated", deliveries: moves });
}
