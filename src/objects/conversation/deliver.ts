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
 * When no member is owed entries, a message's drain waits this long: it only writes the delivered
 * watermarks of the members who had the room open (announced live, from memory, at once) and the rows
 * of the conversation list that are due (below).
 */
export const INDEX_COALESCE_MS = 1000;

/**
 * A member who has the room open saw its messages live: their row of the conversation list (last
 * message, unread count) is owed only to their other devices. It is refreshed at most this often while
 * their inbox has device sockets open (a list on another screen follows), ...
 */
export const LIST_REFRESH_WITH_DEVICES_MS = 2000;
/**
 * ... and this often when it has none (nobody sees the row until a device connects), by a drain that
 * runs anyway; the row is refreshed at once when the member leaves the room. So a message in a quiet room costs a call only to
 * the inboxes of members who need one, and a busy room's list updates cost the same per second
 * whatever its message rate.
 */
export const LIST_REFRESH_IDLE_MS = 60_000;
/** List-only refreshes per drain: a busy room spreads its members' over drains instead of 100 calls at once. */
export const LIST_REFRESHES_PER_DRAIN = 20;
/** How soon the next drain runs when this one left list refreshes for it. */
const NEXT_BATCH_MS = 100;

/**
 * In the synchronous block that stored the message: the members who have the room open got it live
 * (their delivered watermark moves in memory and is announced, coalesced); one outbox row names the
 * members with no open socket (the sender has the message already), and the drain is due.
 */
export function queueDelivery(room: Room, message: Message): void {
	const { store } = room;
	const online = room.sockets.online();
	const offline: string[] = [];
	const live: { userId: string; seq: number }[] = [];
	for (const userId of store.members.keys()) {
		if (userId === message.senderId) continue;
		if (!online.has(userId)) offline.push(userId);
		else if (store.deliveredLive(userId, message.seq)) live.push({ userId, seq: message.seq });
	}
	room.out.deliveries(live);
	room.outbox.messageStored(message.seq, message.senderId, offline);
	room.work.schedule(
		INBOX_WORK,
		Date.now() + (offline.length > 0 ? DELIVERY_COALESCE_MS : INDEX_COALESCE_MS),
	);
}

/** The member's last socket on the room closed: what their inbox is owed is due now. */
export function queueDeparture(room: Room, userId: string): void {
	if (room.store.members.has(userId)) room.work.schedule(INBOX_WORK, Date.now() + DELIVERY_COALESCE_MS);
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

/**
 * When the member's inbox is next owed a call, if they are owed nothing but their row of the list:
 * after their backoff; for a member with the room open, on their refresh schedule; else now.
 */
function listDueAt(room: Room, user: SyncRow, online: Set<string>): number {
	const member = user.removed ? undefined : room.store.members.get(user.userId);
	const scheduled =
		member && online.has(user.userId)
			? user.refreshedAt + (user.devices > 0 ? LIST_REFRESH_WITH_DEVICES_MS : LIST_REFRESH_IDLE_MS)
			: 0;
	return Math.max(user.retryAt, scheduled);
}

/**
 * What the WorkQueue is told after a drain: nothing owed, or when the earliest member is owed a call.
 * Entries that arrive meanwhile make the drain due by themselves (queueDelivery schedules it). A
 * member who has the room open with no device on the list arms no alarm for their refresh: their row
 * is refreshed when they leave (queueDeparture) or by the next drain that finds it due, so a room
 * whose members sit idle with it open can hibernate.
 */
function nextDrain(room: Room, online: Set<string>): boolean | number {
	const soonest = Date.now() + NEXT_BATCH_MS;
	let next = Number.POSITIVE_INFINITY;
	for (const user of room.outbox.pending(room.store.lastSeq)) {
		const idle = online.has(user.userId) && user.devices === 0 && !user.removed;
		if (!idle) next = Math.min(next, Math.max(soonest, listDueAt(room, user, online)));
	}
	return next === Number.POSITIVE_INFINITY ? false : next;
}

export async function drainInboxes(room: Room): Promise<boolean | number> {
	const { store, outbox } = room;
	const meta = store.meta;
	if (!meta) return false;
	const head = store.lastSeq;
	const now = Date.now();
	const online = room.sockets.online();
	const pending = outbox.pending(head).filter((user) => user.retryAt <= now);
	if (pending.length === 0) {
		store.persistDelivered();
		outbox.prune();
		return nextDrain(room, online);
	}
	const lastMessage = head > 0 ? (store.messagesBefore(head + 1, 1)[0] ?? null) : null;

	// Members that are equally far behind (usually all of them) share one read of the outbox.
	const groups = new Map<number, SyncRow[]>();
	for (const user of pending) groups.set(user.seq, [...(groups.get(user.seq) ?? []), user]);

	const due: { user: SyncRow; entrySeqs: number[]; upto: number; liveSeq: number }[] = [];
	let listRefreshes = 0;
	for (const [from, users] of groups) {
		// Rows that only record live deliveries cost nothing to skip, so a busy room where everyone is
		// online moves every member to the head in one drain; entries are capped per member instead.
		const rows = outbox.rowsAfter(from, ROWS_PER_DRAIN);
		const groupUpto = rows.length === ROWS_PER_DRAIN ? (rows.at(-1)?.seq ?? head) : head;
		for (const user of users) {
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
			const listOnly = entrySeqs.length === 0 && !user.removed;
			if (listOnly && (listDueAt(room, user, online) > now || listRefreshes >= LIST_REFRESHES_PER_DRAIN)) {
				continue;
			}
			if (listOnly) listRefreshes++;
			due.push({ user, entrySeqs, upto, liveSeq });
		}
	}

	// A member not named offline had an open socket when the message was stored: it got it live. The
	// send announced it from memory; this recomputes it from the durable rows (after an eviction, say).
	const recovered: { userId: string; seq: number }[] = [];
	for (const { user, liveSeq } of due) {
		if (!user.removed && liveSeq > 0) {
			const moved = advanceDelivered(room, user.userId, liveSeq);
			if (moved) recovered.push(moved);
		}
	}
	store.persistDelivered();
	room.out.deliveries(recovered);
	if (due.length === 0) {
		outbox.prune();
		return nextDrain(room, online);
	}

	const version = outbox.nextVersion();
	const messages = store.messagesBySeq(new Set(due.flatMap((u) => u.entrySeqs)));
	const plans: Plan[] = due.map(({ user, entrySeqs, upto }) => {
		const member = user.removed ? undefined : store.members.get(user.userId);
		return {
			user,
			upto,
			batch: {
				owner: { tenantId: meta.tenantId, userId: user.userId },
				conversationId: meta.conversationId,
				version,
				entries: entrySeqs.flatMap((seq) => messages.get(seq) ?? []),
				index: member ? summarize(store, user, lastMessage) : null,
			},
		};
	});
	const results = await Promise.allSettled(
		plans.map((plan) => rpc(() => room.inboxOf(plan.user.userId).apply(plan.batch))),
	);
	// From here on synchronous: other events ran during the await, so the confirmations only raise
	// watermarks and clear the dirty counters that did not move meanwhile.
	const confirmedAt = Date.now();
	results.forEach((result, i) => {
		const plan = plans[i];
		if (!plan) return;
		if (result.status === "fulfilled") {
			outbox.confirm(plan.user.userId, plan.upto, plan.user.dirty, confirmedAt, result.value.devices);
			return;
		}
		const attempts = plan.user.attempts + 1;
		outbox.failed(plan.user.userId, attempts, confirmedAt + backoffMs(attempts));
		console.error(`inbox delivery to ${plan.user.userId} failed (attempt ${attempts})`, result.reason);
	});
	store.persistDelivered();
	outbox.prune();
	return nextDrain(room, room.sockets.online());
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
