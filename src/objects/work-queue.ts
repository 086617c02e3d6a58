/**
 * A Durable Object has one alarm; this multiplexes it through a table of due work, one row per kind
 * of work ("inbox", "mirror", "retention", ...). Work is durable (the rows survive eviction), the
 * alarm re-arms itself, and a failed kind backs off without holding up the others.
 *
 * Contract for a handler: it is idempotent (alarms are at-least-once), it does a bounded batch, and
 * it answers whether work of its kind remains: `false` (none), `true` (more, due now) or a time in
 * ms since the epoch (more, due then: a target backing off, or work worth coalescing). It reads that
 * answer from storage after its last await, in the same synchronous block in which the queue then
 * clears or keeps the row, so work enqueued while the handler was awaiting is never dropped.
 * A handler that throws is retried with exponential backoff.
 */

/**
 * The queue's table, as a migration entry of each object that uses it. IF NOT EXISTS: objects created
 * before it joined the migrations made the table themselves, with the same definition.
 */
export const WORK_QUEUE_SCHEMA =
	"CREATE TABLE IF NOT EXISTS due_work (kind TEXT PRIMARY KEY, due_at INTEGER NOT NULL, attempts INTEGER NOT NULL DEFAULT 0);";

export type WorkHandler = () => Promise<boolean | number>;

const MAX_BACKOFF_MS = 5 * 60_000;
/** The due time of a kind whose handler is running: later than any real time. */
const RUNNING = Number.MAX_SAFE_INTEGER;

export function backoffMs(attempts: number): number {
	const base = Math.min(MAX_BACKOFF_MS, 1000 * 2 ** Math.max(0, attempts - 1));
	// Jitter spreads the retries of many objects that failed on the same outage.
	return Math.round(base * (0.75 + Math.random() * 0.5));
}

export class WorkQueue {
	/** The alarm time we know is set; null after a restart, when we do not know and set it again. */
	#armedAt: number | null = null;

	/** The table must exist: each object's migrations include WORK_QUEUE_SCHEMA. */
	constructor(private readonly storage: DurableObjectStorage) {}

	/** Makes `kind` due at `at` (or earlier if it already was). Synchronous apart from the alarm write. */
	schedule(kind: string, at = Date.now()): void {
		const row = this.storage.sql
			.exec<{ due_at: number }>("SELECT due_at FROM due_work WHERE kind = ?", kind)
			.toArray()[0];
		if (row && row.due_at <= at && this.#armedAt !== null && this.#armedAt <= row.due_at) return;
		if (!row || row.due_at > at) {
			this.storage.sql.exec(
				"INSERT INTO due_work (kind, due_at, attempts) VALUES (?, ?, 0) ON CONFLICT (kind) DO UPDATE SET due_at = excluded.due_at",
				kind,
				at,
			);
		}
		this.arm();
	}

	/** When `kind` is next due, or null when it is not scheduled. */
	dueAt(kind: string): number | null {
		return (
			this.storage.sql
				.exec<{ due_at: number }>("SELECT due_at FROM due_work WHERE kind = ?", kind)
				.toArray()[0]?.due_at ?? null
		);
	}

	/** When the next run of `kind` is scheduled; null when none is, or while one is running. */
	scheduledAt(kind: string): number | null {
		const at = this.dueAt(kind);
		return at === RUNNING ? null : at;
	}

	attempts(kind: string): number {
		return (
			this.storage.sql
				.exec<{ attempts: number }>("SELECT attempts FROM due_work WHERE kind = ?", kind)
				.toArray()[0]?.attempts ?? 0
		);
	}

	/** Runs every kind that is due; call it from the object's `alarm()`. Never throws. */
	async run(handlers: Record<string, WorkHandler>, now = Date.now()): Promise<void> {
		this.#armedAt = null; // the alarm that woke us is spent
		const due = this.storage.sql
			.exec<{ kind: string; attempts: number }>("SELECT kind, attempts FROM due_work WHERE due_at <= ?", now)
			.toArray();
		await Promise.all(
			due.map(async ({ kind, attempts }) => {
				const handler = handlers[kind];
				if (!handler) {
					this.storage.sql.exec("DELETE FROM due_work WHERE kind = ?", kind);
					return;
				}
				// While the handler runs its row says "not due"; a schedule() meanwhile lowers it again,
				// and that earlier time wins over whatever the handler answers.
				this.storage.sql.exec("UPDATE due_work SET due_at = ? WHERE kind = ?", RUNNING, kind);
				let next: number | null;
				let failures = 0;
				try {
					const more = await handler();
					next = more === true ? Date.now() : more === false ? null : more;
				} catch (error) {
					failures = attempts + 1;
					console.error(`work ${kind} failed (attempt ${failures})`, error);
					next = Date.now() + backoffMs(failures);
				}
				const scheduled = this.dueAt(kind) ?? RUNNING;
				const at = Math.min(scheduled, next ?? RUNNING);
				if (at === RUNNING) {
					this.storage.sql.exec("DELETE FROM due_work WHERE kind = ?", kind);
				} else {
					this.storage.sql.exec(
						"UPDATE due_work SET due_at = ?, attempts = ? WHERE kind = ?",
						at,
						failures,
						kind,
					);
				}
			}),
		);
		this.arm();
	}

	private arm(): void {
		// A kind parked while it runs is re-armed when it finishes, not at RUNNING (past any Date).
		const next = this.storage.sql
			.exec<{ at: number | null }>("SELECT MIN(due_at) AS at FROM due_work WHERE due_at < ?", RUNNING)
			.one().at;
		if (next === null || (this.#armedAt !== null && this.#armedAt <= next)) return;
		this.#armedAt = next;
		// setAlarm on a SQLite-backed object is a storage write: the output gate holds every reply until
		// it is durable, so nothing is acknowledged before the work is armed; no await is needed.
		void this.storage.setAlarm(next);
	}
}
