import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { nanoid } from "nanoid";
import { describe, expect, it } from "vitest";
import { WORK_QUEUE_SCHEMA, WorkQueue } from "./work-queue";

/** Runs `fn` with a WorkQueue on the storage of a fresh Durable Object of its own. */
function withQueue(fn: (queue: WorkQueue, storage: DurableObjectStorage) => Promise<void>) {
	const stub = env.CONVERSATION.getByName(`t_workqueue:${nanoid()}`);
	return runInDurableObject(stub, (_instance, state) => {
		state.storage.sql.exec(WORK_QUEUE_SCHEMA);
		return fn(new WorkQueue(state.storage), state.storage);
	});
}

describe("WorkQueue", () => {
	it("arms the alarm for the earliest due kind and keeps each kind's earliest time", async () => {
		await withQueue(async (queue, storage) => {
			const now = Date.now();
			queue.schedule("b", now + 60_000);
			queue.schedule("a", now + 30_000);
			queue.schedule("a", now + 90_000); // later than what is due: no change
			expect(queue.dueAt("a")).toBe(now + 30_000);
			expect(await storage.getAlarm()).toBe(now + 30_000);
			queue.schedule("b", now + 10_000);
			expect(await storage.getAlarm()).toBe(now + 10_000);
		});
	});

	it("drops a kind whose handler says it is done, and re-arms for what it answers next", async () => {
		await withQueue(async (queue, storage) => {
			const now = Date.now();
			queue.schedule("done", now);
			queue.schedule("later", now);
			const later = now + 45_000;
			await queue.run({ done: async () => false, later: async () => later }, now);
			expect(queue.dueAt("done")).toBeNull();
			expect(queue.dueAt("later")).toBe(later);
			expect(await storage.getAlarm()).toBe(later);
		});
	});

	it("backs off a failing kind, counting attempts, and resets the count on success", async () => {
		await withQueue(async (queue) => {
			const now = Date.now();
			queue.schedule("flaky", now);
			const failing = { flaky: async (): Promise<boolean> => Promise.reject(new Error("down")) };
			await queue.run(failing, now);
			expect(queue.attempts("flaky")).toBe(1);
			const first = (queue.dueAt("flaky") ?? 0) - now;
			expect(first).toBeGreaterThanOrEqual(500);
			await queue.run(failing, Number.MAX_SAFE_INTEGER - 1);
			expect(queue.attempts("flaky")).toBe(2);
			await queue.run({ flaky: async () => true }, Number.MAX_SAFE_INTEGER - 1);
			expect(queue.attempts("flaky")).toBe(0);
			expect(queue.dueAt("flaky")).not.toBeNull();
		});
	});

	it("keeps work that was scheduled while its handler was running, whatever the handler answers", async () => {
		await withQueue(async (queue) => {
			const now = Date.now();
			queue.schedule("drain", now);
			const scheduledMeanwhile = now + 5;
			await queue.run(
				{
					drain: async () => {
						await Promise.resolve();
						queue.schedule("drain", scheduledMeanwhile); // a message stored during the drain's await
						return false;
					},
				},
				now,
			);
			expect(queue.dueAt("drain")).toBe(scheduledMeanwhile);
		});
	});

	it("tells no scheduled time while a kind runs (its row is parked past any Date)", async () => {
		await withQueue(async (queue) => {
			const now = Date.now();
			queue.schedule("drain", now);
			expect(queue.dueAt("drain")).toBe(now);
			let during: number | null | undefined;
			await queue.run(
				{
					drain: async () => {
						during = queue.dueAt("drain");
						return false;
					},
				},
				now,
			);
			expect(during).toBeNull();
			expect(queue.dueAt("drain")).toBeNull();
		});
	});

	it("forgets a kind nobody handles", async () => {
		await withQueue(async (queue) => {
			queue.schedule("orphan", Date.now());
			await queue.run({});
			expect(queue.dueAt("orphan")).toBeNull();
		});
	});

	it("tells a running kind apart: running, with no due time, and due again once it ends", async () => {
		await withQueue(async (queue) => {
			const now = Date.now();
			queue.schedule("drain", now);
			let during: ReturnType<WorkQueue["state"]> = null;
			await queue.run(
				{
					drain: async () => {
						during = queue.state("drain");
						return now + 60_000;
					},
				},
				now,
			);
			expect(during).toEqual({ running: true, dueAt: null, attempts: 0 });
			expect(queue.state("drain")).toEqual({ running: false, dueAt: now + 60_000, attempts: 0 });
			expect(queue.state("unknown")).toBeNull();
		});
	});

	it("runs again a kind whose handler was cut off (the object was evicted while it ran)", async () => {
		await withQueue(async (queue, storage) => {
			queue.schedule("drain", Date.now());
			// What run() leaves in the row while the handler awaits; an eviction then keeps it so.
			storage.sql.exec("UPDATE due_work SET due_at = ? WHERE kind = 'drain'", Number.MAX_SAFE_INTEGER);
			const restarted = new WorkQueue(storage);
			expect(restarted.state("drain")).toEqual({ running: true, dueAt: null, attempts: 0 });
			let ran = 0;
			await restarted.run({
				drain: async () => {
					ran++;
					return false;
				},
			});
			expect(ran).toBe(1);
			expect(restarted.state("drain")).toBeNull();
		});
	});
});
