/**
 * Test harness for objects' background work: their WorkQueue and outbox live in SQLite, so the tests
 * reach them through the object's storage (a second WorkQueue over the same table), never through
 * the object's private state.
 */
import { runInDurableObject } from "cloudflare:test";
import { InboxOutbox } from "../src/objects/conversation/outbox";
import { WorkQueue } from "../src/objects/work-queue";

function hasTable(sql: SqlStorage, name: string): boolean {
	return sql.exec("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", name).toArray().length > 0;
}

/** When `kind` is due in the object's queue (ms since the epoch), or null when it is not scheduled. */
export function dueAt(stub: DurableObjectStub, kind: string): Promise<number | null> {
	return runInDurableObject(stub, (_object, state) => new WorkQueue(state.storage).dueAt(kind));
}

/** Makes `kind` due now, as time passing would; the members' inbox backoffs stay as they are. */
export function scheduleNow(stub: DurableObjectStub, kind: string): Promise<void> {
	return runInDurableObject(stub, (_object, state) => new WorkQueue(state.storage).schedule(kind));
}

/**
 * Makes `kind` due now if it is scheduled at all, and lifts every member's inbox backoff (a test does
 * not wait one out); answers when it was due before, or null when it was not scheduled (and stays so).
 */
export function makeDue(stub: DurableObjectStub, kind: string): Promise<number | null> {
	return runInDurableObject(stub, (_object, state) => {
		const work = new WorkQueue(state.storage);
		const at = work.dueAt(kind);
		if (at === null) return null;
		if (hasTable(state.storage.sql, "inbox_sync")) new InboxOutbox(state.storage.sql).retryAllNow();
		work.schedule(kind);
		return at;
	});
}
