/**
 * The Inbox object's commands, each one door for its RPC method and its socket frame, with the narrow
 * context they need (`Mailbox`): the store, the alarm's work queue and the device sockets. No module
 * here imports the class.
 */
import { TUNING } from "../../config";
import { AppError } from "../../errors";
import { INBOX_LIMITS, PROTOCOL_VERSION } from "../../protocol";
import { safeSend } from "../socket-io";
import type { WorkQueue } from "../work-queue";
import type { BatchApplied, InboxBatch } from "./batch";
import { RECEIPTS_WORK } from "./receipts";
import { type DeviceSockets, sendFrame } from "./sockets";
import type { InboxStore } from "./store";

export const RETENTION_WORK = "retention";

export interface Mailbox {
	readonly store: InboxStore;
	readonly work: WorkQueue;
	readonly devices: DeviceSockets;
}

/**
 * Takes one conversation's drain for this user and pushes what is new to every device. Idempotent.
 * Answers how many device sockets are open: the conversation refreshes the row of a member who has it
 * open more often when another device shows the list.
 */
export function applyBatch(mailbox: Mailbox, batch: InboxBatch, now = Date.now()): BatchApplied {
	const { store, devices } = mailbox;
	store.rememberOwner(batch.owner);
	const applied = store.apply(batch, now);
	for (const entry of applied.entries) devices.broadcast({ type: "inbox.entry", ...entry });
	if (applied.index) {
		const { conversationId, summary } = applied.index;
		devices.broadcast(
			summary
				? { type: "conversation.updated", conversation: summary }
				: { type: "conversation.removed", conversationId },
		);
	}
	if (applied.entries.length > 0) scheduleRetention(mailbox);
	return { devices: devices.count() };
}

/** Drops entries through `cursor` (from any device) and sends the delivered receipts durably. */
export function ackThrough(mailbox: Mailbox, cursor: number): void {
	const last = mailbox.store.lastCursor();
	if (cursor > last) {
		throw new AppError("invalid_cursor", `cursor ${cursor} was never handed out (the last is ${last})`);
	}
	if (mailbox.store.ack(cursor)) mailbox.work.schedule(RECEIPTS_WORK);
}

/** Arms the retention sweep for when the oldest unacked entry expires. */
export function scheduleRetention(mailbox: Mailbox): void {
	const at = mailbox.store.nextExpiry();
	if (at !== null) mailbox.work.schedule(RETENTION_WORK, at);
}

/** Drops the entries past retention; the sweep re-arms itself for the next one to expire. */
export function expireEntries(mailbox: Mailbox, now = Date.now()): void {
	mailbox.store.expireEntries(now - TUNING.inboxRetentionMs);
}

/** A device connected: `ready`, then everything unacked in cursor order; a larger backlog is paged over HTTP. */
export function greetDevice(mailbox: Mailbox, ws: WebSocket): void {
	const { store } = mailbox;
	sendFrame(ws, { type: "ready", protocol: PROTOCOL_VERSION, lastCursor: store.lastCursor() });
	// Read and sent a page at a time, so a large backlog never sits in memory whole.
	let after = 0;
	let pushed = 0;
	while (pushed < INBOX_LIMITS.replayEntries) {
		const asked = Math.min(REPLAY_PAGE, INBOX_LIMITS.replayEntries - pushed);
		const page = store.entryFramesAfter(after, asked);
		for (const frame of page.frames) safeSend(ws, frame);
		pushed += page.frames.length;
		if (page.lastCursor === null || page.frames.length < asked) return;
		after = page.lastCursor;
	}
	if (store.entryFramesAfter(after, 1).frames.length > 0)
		sendFrame(ws, { type: "inbox.truncated", cursor: after });
}

/** Entries read from storage per step of a device's catch-up. */
const REPLAY_PAGE = 500;
