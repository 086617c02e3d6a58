// Bytes of storage per message in each store, for the capacity figures of docs/design.md.
//
// A fresh dev server (its own state folder), one tenant, ROOMS group conversations of MEMBERS
// members, nobody connected (so every message also makes an inbox entry for each other member, the
// most an offline member costs), MESSAGES messages of TEXT_BYTES characters in all, sent over HTTP.
// Once the D1 mirror has caught up, the SQLite files of the state folder are copied and opened with
// node:sqlite (which applies their WAL), and the bytes each table and index uses are read from
// `dbstat`, per store: the Conversation objects, the Inbox objects, and the D1 databases.
// Figures are before → after, divided by the messages sent. Sizes, not timings: load on the machine
// does not change them.
//
//   npx node bench/storage.mjs          # env: PORT (8725), ROOMS (10), MEMBERS (5), MESSAGES (2000), TEXT_BYTES (100)
import { cpSync, mkdtempSync, readdirSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { startDevServer } from "../scripts/dev-server.mjs";
import { devApi } from "./lib/dev-api.mjs";
import { createBenchTenant } from "./lib/tenant.mjs";

const port = Number(process.env.PORT ?? 8725);
const groups = Number(process.env.ROOMS ?? 10);
const members = Number(process.env.MEMBERS ?? 5);
const messages = Number(process.env.MESSAGES ?? 2000);
const textBytes = Number(process.env.TEXT_BYTES ?? 100);
const base = new URL(`http://127.0.0.1:${port}`);

/** Every SQLite database file under `dir`, by store: the path says which (v3/do/<script>-<Class>/, v3/d1/). */
function databases(dir) {
	const found = [];
	const walk = (d) => {
		for (const name of readdirSync(d)) {
			const path = join(d, name);
			if (statSync(path).isDirectory()) walk(path);
			// Miniflare's own metadata.sqlite files aside; a database may exist only as its WAL so far.
			else if (/^[0-9a-f]{64}\.sqlite(-wal)?$/.test(name)) found.push(path.replace(/-wal$/, ""));
		}
	};
	walk(dir);
	return [...new Set(found)].map((path) => ({
		path,
		store: /-Conversation\//.test(path)
			? "conversation"
			: /-Inbox\//.test(path)
				? "inbox"
				: /\/d1\//.test(path)
					? "d1"
					: "other",
	}));
}

/** Bytes used per table/index (dbstat), summed over the store's files; a copy is opened, never the live file. */
function measure(dir) {
	const scratch = mkdtempSync(join(tmpdir(), "edgechat-storage-"));
	const totals = {};
	try {
		for (const [i, { path, store }] of databases(dir).entries()) {
			const copy = join(scratch, `${i}.sqlite`);
			// The main file and its WAL (SQLite replays the WAL's committed frames on open); not the -shm.
			for (const suffix of ["", "-wal"]) {
				try {
					cpSync(path + suffix, copy + suffix);
				} catch {}
			}
			const db = new DatabaseSync(copy);
			try {
				const rows = db.prepare("SELECT name, SUM(pgsize) AS bytes FROM dbstat GROUP BY name").all();
				totals[store] ??= { files: 0, bytes: 0, tables: {} };
				const t = totals[store];
				t.files++;
				for (const { name, bytes } of rows) {
					t.bytes += bytes;
					t.tables[name] = (t.tables[name] ?? 0) + bytes;
				}
			} finally {
				db.close();
			}
		}
	} finally {
		rmSync(scratch, { recursive: true, force: true });
	}
	return totals;
}

const server = await startDevServer({ port, args: ["--inspector-port", String(port + 1)] });
const { agent, request } = devApi(base, 16);
try {
	const tenant = await createBenchTenant(request, base, "storage");
	const host = tenant.host;
	const conversations = [];
	for (let g = 0; g < groups; g++) {
		const ids = Array.from({ length: members }, (_, m) => `g${g}-u${m}`);
		const { conversation } = await request("POST", "/v1/conversations", {
			host,
			auth: tenant.token(ids[0]),
			body: { type: "group", title: `storage ${g}`, memberIds: ids.slice(1) },
		});
		conversations.push({ id: conversation.id, senders: ids.map((id) => tenant.token(id)) });
	}
	await new Promise((resolve) => setTimeout(resolve, 3000)); // creation's own drains
	const before = measure(server.persist);

	const text = "x".repeat(textBytes);
	let next = 0;
	async function sender() {
		while (next < messages) {
			const i = next++;
			const c = conversations[i % conversations.length];
			await request("POST", `/v1/conversations/${c.id}/messages`, {
				host,
				auth: c.senders[i % members],
				body: { clientId: `s-${i}`, text },
			});
		}
	}
	await Promise.all(Array.from({ length: 8 }, sender));
	for (const c of conversations) {
		for (;;) {
			const { mirror } = await request("GET", `/v1/admin/conversations/${c.id}/mirror`, {
				host,
				auth: tenant.apiKey,
			});
			if (mirror.pendingMessages === 0) break;
			await new Promise((resolve) => setTimeout(resolve, 250));
		}
	}
	await new Promise((resolve) => setTimeout(resolve, 3000)); // the inbox drains' last batches
	const after = measure(server.persist);

	const stores = {};
	for (const store of new Set([...Object.keys(before), ...Object.keys(after)])) {
		const b = before[store] ?? { bytes: 0, tables: {} };
		const a = after[store] ?? { bytes: 0, tables: {}, files: 0 };
		const tables = {};
		for (const name of Object.keys(a.tables)) {
			const grown = a.tables[name] - (b.tables[name] ?? 0);
			if (grown > 0) tables[name] = Math.round(grown / messages);
		}
		stores[store] = {
			files: a.files,
			bytesBefore: b.bytes,
			bytesAfter: a.bytes,
			bytesPerMessage: Math.round((a.bytes - b.bytes) / messages),
			perMessageByTable: Object.fromEntries(Object.entries(tables).sort((x, y) => y[1] - x[1])),
		};
	}
	console.log(
		JSON.stringify(
			{
				benchmark: "storage",
				groups,
				members,
				messages,
				textBytes,
				offlineRecipientsPerMessage: members - 1,
				stores,
			},
			null,
			2,
		),
	);
} finally {
	agent.destroy();
	if (process.env.KEEP) console.error(`state kept in ${server.persist}`);
	await server.stop({ keepState: Boolean(process.env.KEEP) });
}
