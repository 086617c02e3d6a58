/**
 * Idempotency-Key for the platform API's creations (tenants, signing keys): the first answer is kept
 * in D1 next to what it created, written in the same batch (one transaction), so a retry, even after
 * a restart or from another isolate, answers the original and creates nothing twice. Keys are
 * remembered for a day (`IDEMPOTENCY_TTL_MS`), as Stripe's are; a key used again with another request
 * is refused (`409 conflict`). The answers hold secrets shown once, so they are sealed with a key
 * derived from PLATFORM_ADMIN_KEY: D1 alone does not reveal them, and rotating the admin key makes
 * the kept answers unreadable, which a retry then hears as a conflict.
 */
import { and, eq, gte, lt } from "drizzle-orm";
import type { BatchItem } from "drizzle-orm/batch";
import type { DrizzleD1Database } from "drizzle-orm/d1";
import { seal, sha256Hex, unseal } from "../auth/crypto";
import { AppError } from "../errors";
import * as schema from "./schema";

export const IDEMPOTENCY_TTL_MS = 24 * 3600 * 1000;
const PURPOSE = "edgechat idempotency replay v1";

export interface Idempotency {
	scope: string;
	key: string;
	/** SHA-256 of the request (its scope and body), to tell a retry from another request under the key. */
	fingerprint: string;
	/** The secret the kept answer is sealed with. */
	secret: string;
}

export interface Replay<T> {
	status: number;
	body: T;
}

/** The idempotency of a request that came with `key` (null without one). */
export async function idempotencyOf(
	scope: string,
	key: string | undefined,
	request: unknown,
	secret: string,
): Promise<Idempotency | null> {
	if (key === undefined) return null;
	const fingerprint = await sha256Hex(JSON.stringify({ scope, request }));
	return { scope, key, fingerprint, secret };
}

/** The answer kept for the key, or null when there is none (or it is older than a day). */
export async function findReplay<T>(
	d: DrizzleD1Database<typeof schema>,
	idempotency: Idempotency,
	now = Date.now(),
): Promise<Replay<T> | null> {
	const row = await d
		.select()
		.from(schema.idempotencyKeys)
		.where(
			and(
				eq(schema.idempotencyKeys.scope, idempotency.scope),
				eq(schema.idempotencyKeys.key, idempotency.key),
				gte(schema.idempotencyKeys.createdAt, now - IDEMPOTENCY_TTL_MS),
			),
		)
		.get();
	if (!row) return null;
	if (row.fingerprint !== idempotency.fingerprint) {
		throw new AppError("conflict", "This Idempotency-Key was used with another request");
	}
	const plain = await unseal(idempotency.secret, PURPOSE, row.response);
	if (plain === null) {
		throw new AppError("conflict", "The answer kept for this Idempotency-Key can no longer be read");
	}
	return JSON.parse(plain) as Replay<T>;
}

/**
 * The statements that keep `answer` for the key, for the batch that creates what it describes: an
 * expired row of the same key goes first; a live one makes the insert, hence the whole batch, fail
 * (`isKeyTaken`), and the caller answers what the concurrent first request kept.
 */
export async function keepReplay<T>(
	d: DrizzleD1Database<typeof schema>,
	idempotency: Idempotency,
	answer: Replay<T>,
	now = Date.now(),
) {
	const response = await seal(idempotency.secret, PURPOSE, JSON.stringify(answer));
	return [
		d
			.delete(schema.idempotencyKeys)
			.where(
				and(
					eq(schema.idempotencyKeys.scope, idempotency.scope),
					eq(schema.idempotencyKeys.key, idempotency.key),
					lt(schema.idempotencyKeys.createdAt, now - IDEMPOTENCY_TTL_MS),
				),
			),
		d.insert(schema.idempotencyKeys).values({
			scope: idempotency.scope,
			key: idempotency.key,
			fingerprint: idempotency.fingerprint,
			response,
			createdAt: now,
		}),
	] as const;
}

/**
 * Creates what `make` describes, once per key: with a kept answer, that answer (`replayed`); else
 * `make`'s statements and the answer's, in one batch (one transaction: all of it or none).
 */
export async function createOnce<T>(
	d: DrizzleD1Database<typeof schema>,
	idempotency: Idempotency | null,
	make: () => Promise<{ body: T; statements: BatchItem<"sqlite">[] }>,
): Promise<{ body: T; replayed: boolean }> {
	if (idempotency) {
		const replay = await findReplay<T>(d, idempotency);
		if (replay) return { body: replay.body, replayed: true };
	}
	const { body, statements } = await make();
	const all = [
		...statements,
		...(idempotency ? await keepReplay(d, idempotency, { status: 201, body }) : []),
	];
	try {
		await d.batch(all as [BatchItem<"sqlite">, ...BatchItem<"sqlite">[]]);
	} catch (error) {
		if (idempotency && isKeyTaken(error)) {
			const replay = await findReplay<T>(d, idempotency);
			if (replay) return { body: replay.body, replayed: true };
		}
		throw error;
	}
	return { body, replayed: false };
}

/** Whether a batch failed because another request kept an answer under the same key first. */
export function isKeyTaken(error: unknown): boolean {
	for (let cause: unknown = error, depth = 0; cause instanceof Error && depth < 5; depth++) {
		if (/UNIQUE constraint failed: idempotency_keys\./.test(cause.message)) return true;
		cause = cause.cause;
	}
	return false;
}
