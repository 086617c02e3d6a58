/**
 * Changes without downtime, for the objects' SQLite (docs/design.md, "Changes without downtime"):
 * an object written by an older version of the code, at any older schema version, is upgraded with
 * nothing lost when the current code wakes it; and every migration is additive, so the previous
 * version of the code still runs against the new schema (a rollback is safe).
 *
 * How an object "at version k" is made: a conversation (or inbox) is filled through the API by the
 * current code, its rows are read, its tables dropped, the first k migrations applied, and the rows
 * put back with the columns that version k has; then the object is evicted, and the current code's
 * constructor migrates it on the next request. The test runs for every k, so a migration appended
 * later is covered without touching it.
 */
import { evictDurableObject, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { createUnlimitedTenant, User } from "../../test/helpers";
import { conversationsOf, drainOutbox, inboxOf } from "../../test/inbox";
import { MIGRATIONS as CONVERSATION_MIGRATIONS } from "./conversation/schema";
import { MIGRATIONS as INBOX_MIGRATIONS } from "./inbox/schema";
import { conversationStub, inboxStub } from "./names";
import { applyMigrations } from "./sqlite-schema";

type Row = Record<string, SqlStorageValue>;

/** The tables an object's code owns (not SQLite's, not the runtime's `_cf_…`, not `_schema`). */
function ownTables(sql: SqlStorage): string[] {
	return sql
		.exec<{ name: string }>(
			"SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name NOT LIKE '_cf_%' AND name <> '_schema'",
		)
		.toArray()
		.map((r) => r.name);
}

function columnsOf(sql: SqlStorage, table: string): string[] {
	return sql
		.exec<{ name: string }>(`SELECT name FROM pragma_table_info('${table}')`)
		.toArray()
		.map((r) => r.name);
}

/**
 * Rewrites the object's storage as version `k` of the schema would hold the same data: every table
 * and column of version k, with today's rows in them; tables and columns added after k are gone.
 */
function downgrade(sql: SqlStorage, migrations: readonly string[], k: number): void {
	const saved = new Map<string, Row[]>();
	for (const table of ownTables(sql)) saved.set(table, sql.exec<Row>(`SELECT * FROM ${table}`).toArray());
	for (const table of ownTables(sql)) sql.exec(`DROP TABLE ${table}`);
	sql.exec("DROP TABLE IF EXISTS _schema");
	applyMigrations(sql, migrations.slice(0, k));
	for (const table of ownTables(sql)) {
		const columns = columnsOf(sql, table);
		for (const row of saved.get(table) ?? []) {
			const kept = columns.filter((c) => c in row);
			sql.exec(
				`INSERT OR REPLACE INTO ${table} (${kept.join(", ")}) VALUES (${kept.map(() => "?").join(", ")})`,
				...kept.map((c) => row[c] as SqlStorageValue),
			);
		}
	}
}

/** The data a user can see of a conversation, and of their own inbox. */
async function snapshot(owner: User, peer: User, conversationId: string) {
	const history = (await owner.history(conversationId)).messages.map((m) => ({
		seq: m.seq,
		id: m.id,
		text: m.text,
	}));
	const list = (await conversationsOf(peer)).conversations.map((c) => ({ id: c.id, unread: c.unreadCount }));
	const inbox = (await inboxOf(peer)).entries.map((e) => e.message.seq);
	return { history, list, inbox };
}

async function filledConversation() {
	const tenant = await createUnlimitedTenant();
	const owner = await User.create(tenant, "owner");
	const peer = await User.create(tenant, "peer");
	const group = await owner.createGroup([peer.id], "kept through upgrades");
	for (let i = 1; i <= 5; i++) await owner.send(group.id, `before the upgrade ${i}`);
	await drainOutbox(tenant, group.id);
	return { tenant, owner, peer, group };
}

describe("object schema migrations", () => {
	it("are additive only: new tables, columns and indexes, and backfills; nothing dropped or renamed", () => {
		for (const migration of [...CONVERSATION_MIGRATIONS, ...INBOX_MIGRATIONS]) {
			expect(migration).not.toMatch(/\bDROP\s+(TABLE|COLUMN|INDEX)\b/i);
			expect(migration).not.toMatch(/\bRENAME\b/i);
			// A new column that an older version's INSERTs would leave NULL must have a default or be nullable.
			for (const [, definition] of migration.matchAll(/ADD\s+COLUMN\s+([^;,]+)/gi)) {
				if (/NOT\s+NULL/i.test(definition as string)) expect(definition).toMatch(/DEFAULT/i);
			}
		}
	});

	for (let k = 1; k < CONVERSATION_MIGRATIONS.length; k++) {
		it(`upgrade a conversation written at version ${k} of ${CONVERSATION_MIGRATIONS.length} with nothing lost`, async () => {
			const { tenant, owner, peer, group } = await filledConversation();
			const before = await snapshot(owner, peer, group.id);
			const stub = conversationStub(env, tenant.id, group.id);
			await runInDurableObject(stub, (_object, state) => {
				downgrade(state.storage.sql, CONVERSATION_MIGRATIONS, k);
				expect(state.storage.sql.exec<{ version: number }>("SELECT version FROM _schema").one().version).toBe(
					k,
				);
			});
			await evictDurableObject(stub);

			// The current code wakes it: the same history, and it carries on from the same seq.
			expect(await snapshot(owner, peer, group.id)).toEqual(before);
			const next = await owner.send(group.id, "after the upgrade");
			expect(next.seq).toBe(before.history.length + 1);
			await drainOutbox(tenant, group.id);
			const after = await snapshot(owner, peer, group.id);
			expect(after.history.map((m) => m.seq)).toEqual([...before.history.map((m) => m.seq), next.seq]);
			expect(after.inbox).toEqual([...before.inbox, next.seq]);
			await runInDurableObject(stub, (_object, state) => {
				const version = state.storage.sql
					.exec<{ version: number }>("SELECT version FROM _schema")
					.one().version;
				expect(version).toBe(CONVERSATION_MIGRATIONS.length);
			});
		});
	}

	for (let k = 1; k < INBOX_MIGRATIONS.length; k++) {
		it(`upgrade an inbox written at version ${k} of ${INBOX_MIGRATIONS.length} with nothing lost`, async () => {
			const { tenant, owner, peer, group } = await filledConversation();
			const before = await snapshot(owner, peer, group.id);
			const stub = inboxStub(env, tenant.id, peer.id);
			await runInDurableObject(stub, (_object, state) => {
				downgrade(state.storage.sql, INBOX_MIGRATIONS, k);
			});
			await evictDurableObject(stub);

			expect(await snapshot(owner, peer, group.id)).toEqual(before);
			const next = await owner.send(group.id, "after the upgrade");
			await drainOutbox(tenant, group.id);
			const after = await snapshot(owner, peer, group.id);
			expect(after.inbox).toEqual([...before.inbox, next.seq]);
			expect(after.list).toEqual([{ id: group.id, unread: (before.list[0]?.unread ?? 0) + 1 }]);
		});
	}
});
