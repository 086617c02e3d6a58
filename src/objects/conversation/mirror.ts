/**
 * The history mirror: copies this conversation into D1 (search, export, a tenant's admin queries).
 *
 * No outbox row per message: the messages table is durable and ordered by seq, so one watermark,
 * "mirrored through seq N", says what is left to copy. The send path only schedules the "mirror"
 * work; the drain copies the next batch after the watermark with INSERT … ON CONFLICT DO NOTHING on
 * (tenantId, conversationId, seq), then moves the watermark. A drain replayed after a crash between
 * D1's commit and the watermark write inserts nothing twice.
 *
 * Membership is mirrored by version rather than by outbox: every change bumps `meta_version`, and a
 * drain that sees it ahead of `meta_mirrored` replaces the conversation's whole member set in the
 * same D1 transaction (at most 100 members, so a handful of statements). Coalescing many changes
 * into one write is what we want, and the set written is always the current one.
 */

import { TUNING } from "../../config";
import { type MirrorBatch, writeMirrorBatch } from "../../db/mirror";
import type { MirrorStatus } from "../../protocol";
import { testHooksEnabled } from "../../test-hooks";
import type { WorkQueue } from "../work-queue";
import type { ConversationStore } from "./store";

export const MIRROR_WORK = "mirror";

/**
 * A message's mirror drain waits this long for the ones that follow, so a busy room writes D1 in
 * batches of hundreds rather than one drain per message; search and export lag by at most this much.
 */
export const MIRROR_COALESCE_MS = 500;

/** Test-only faults: D1 down, or D1 that commits but whose answer is lost. */
export type MirrorFault = "down" | "lose-ack" | null;

type StateRow = {
	seq: number;
	meta_version: number;
	meta_mirrored: number;
	failing_since: number | null;
	last_error: string | null;
};

export class Mirror {
	#fault: MirrorFault = null;

	constructor(
		private readonly sql: SqlStorage,
		private readonly env: Env,
		private readonly store: ConversationStore,
		private readonly work: WorkQueue,
	) {}

	/** Call in the synchronous block that stored messages: the drain follows, coalesced. */
	messagesStored(): void {
		this.work.schedule(MIRROR_WORK, Date.now() + MIRROR_COALESCE_MS);
	}

	/** Call in the synchronous block that changed members or the conversation's title. */
	membersChanged(): void {
		this.sql.exec("UPDATE mirror_state SET meta_version = meta_version + 1");
		this.work.schedule(MIRROR_WORK);
	}

	/** Honoured only when the test hooks are enabled (see src/test-hooks.ts). */
	setFault(fault: MirrorFault): void {
		if (!testHooksEnabled(this.env)) throw new Error("test hooks are disabled");
		this.#fault = fault;
	}

	private state(): StateRow {
		return this.sql
			.exec<StateRow>("SELECT seq, meta_version, meta_mirrored, failing_since, last_error FROM mirror_state")
			.one();
	}

	private pending(): boolean {
		const state = this.state();
		return state.meta_version > state.meta_mirrored || this.store.lastSeq > state.seq;
	}

	/** One bounded batch into D1; answers whether more remains (read after the last await). */
	async drain(): Promise<boolean> {
		const meta = this.store.meta;
		if (!meta) return false;
		const state = this.state();
		const rows = this.store.rowsAfter(state.seq, TUNING.mirrorBatch);
		const membersDirty = state.meta_version > state.meta_mirrored;
		if (rows.length === 0 && !membersDirty) return false;
		const throughSeq = rows.at(-1)?.seq ?? state.seq;
		const batch: MirrorBatch = {
			tenantId: meta.tenantId,
			conversation: {
				conversationId: meta.conversationId,
				type: meta.type,
				title: meta.title,
				createdBy: meta.createdBy,
				createdAt: meta.createdAt,
				lastSeq: throughSeq,
			},
			members: membersDirty
				? [...this.store.members.values()].map((m) => ({
						userId: m.userId,
						role: m.role,
						joinedAt: m.joinedAt,
					}))
				: null,
			messages: rows,
		};
		try {
			if (this.#fault === "down") throw new Error("D1 is unavailable (test fault)");
			await writeMirrorBatch(this.env.DB, batch);
			if (this.#fault === "lose-ack") throw new Error("D1's answer was lost (test fault)");
		} catch (error) {
			this.sql.exec(
				"UPDATE mirror_state SET failing_since = COALESCE(failing_since, ?), last_error = ?",
				Date.now(),
				error instanceof Error ? error.message.slice(0, 500) : String(error).slice(0, 500),
			);
			throw error;
		}
		// MAX: a slower, replayed drain must never move the watermarks back.
		this.sql.exec(
			`UPDATE mirror_state SET seq = MAX(seq, ?), meta_mirrored = MAX(meta_mirrored, ?),
			   failing_since = NULL, last_error = NULL`,
			throughSeq,
			state.meta_version,
		);
		return this.pending();
	}

	/** For operators: how far behind D1 is, and why. */
	status(now = Date.now()): MirrorStatus {
		const state = this.state();
		const oldest = this.store.createdAtAfter(state.seq);
		// Not dueAt: while a drain runs its row is parked far in the future, past any Date.
		const nextAttemptAt = this.work.scheduledAt(MIRROR_WORK);
		return {
			conversationId: this.store.meta?.conversationId ?? "",
			lastSeq: this.store.lastSeq,
			mirroredSeq: state.seq,
			pendingMessages: Math.max(0, this.store.lastSeq - state.seq),
			oldestPendingAt: oldest === null ? null : new Date(oldest).toISOString(),
			lagMs: oldest === null ? 0 : Math.max(0, now - oldest),
			membersPending: state.meta_version > state.meta_mirrored,
			failingSince: state.failing_since === null ? null : new Date(state.failing_since).toISOString(),
			lastError: state.last_error,
			attempts: this.work.attempts(MIRROR_WORK),
			nextAttemptAt: nextAttemptAt === null ? null : new Date(nextAttemptAt).toISOString(),
		};
	}
}
