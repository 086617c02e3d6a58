import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { call, createTenant, createUnlimitedTenant, expectError, User } from "../../test/helpers";
import { drainMirror, sendMany } from "../../test/mirror";
import { TUNING } from "../config";
import { streamExport } from "../db/export";
import { ExportLine, type ExportTrailer, LIMITS, Message } from "../protocol";
import { TEST_FAULT_HEADER, withTestFaults } from "../test-hooks";

/** An export's lines: every one a Message but the last, the trailer (each checked against its schema). */
function parseExport(text: string): { messages: Message[]; trailer: ExportTrailer["export"] } {
	expect(text.endsWith("\n")).toBe(true);
	const lines = text
		.trimEnd()
		.split("\n")
		.map((line) => ExportLine.parse(JSON.parse(line)));
	const last = lines.pop();
	expect(last && "export" in last).toBe(true);
	const messages = lines.map((line) => Message.parse(line));
	return { messages, trailer: (last as ExportTrailer).export };
}

async function exportLines(
	host: string,
	apiKey: string,
	conversationId: string,
	query = "",
	headers: Record<string, string> = {},
) {
	const response = await call(host, `/v1/admin/conversations/${conversationId}/export${query}`, {
		token: apiKey,
		headers,
	});
	expect(response.status).toBe(200);
	expect(response.headers.get("content-type")).toMatch(/^application\/x-ndjson/);
	return {
		mirroredSeq: Number(response.headers.get("x-edgechat-mirrored-seq")),
		...parseExport(new TextDecoder().decode(await response.arrayBuffer())),
	};
}

describe("GET /v1/admin/conversations/:id/export", () => {
	it("streams the whole history as NDJSON in seq order, across several internal pages", async () => {
		const tenant = await createUnlimitedTenant();
		const alice = await User.create(tenant, "alice");
		const group = await alice.createGroup(["bob"]);
		const count = TUNING.exportPage * 2 + 17;
		await sendMany(alice, group.id, count, 25);
		await drainMirror(tenant, group.id);

		const exported = await exportLines(tenant.host, tenant.apiKey, group.id);
		expect(exported.mirroredSeq).toBe(count);
		expect(exported.messages.map((m) => m.seq)).toEqual(Array.from({ length: count }, (_, i) => i + 1));
		expect(exported.trailer).toEqual({ complete: true, lastSeq: count, next: null });
		// Line for line what the conversation itself serves.
		const history: Message[] = [];
		for (let after = 0; after < count; after += LIMITS.historyPage) {
			history.push(...(await alice.history(group.id, `after=${after}&limit=${LIMITS.historyPage}`)).messages);
		}
		expect(exported.messages).toEqual(history);
	});

	it("exports a conversation without messages as its trailer alone", async () => {
		const tenant = await createUnlimitedTenant();
		const alice = await User.create(tenant, "alice");
		const empty = await alice.createGroup(["bob"]);
		await drainMirror(tenant, empty.id);
		const exported = await exportLines(tenant.host, tenant.apiKey, empty.id);
		expect(exported.messages).toEqual([]);
		expect(exported.trailer).toEqual({ complete: true, lastSeq: 0, next: null });
	});

	it("resumes after a seq, and a limited answer says where the next one starts", async () => {
		const tenant = await createUnlimitedTenant();
		const alice = await User.create(tenant, "alice");
		const group = await alice.createGroup([]);
		await sendMany(alice, group.id, 70, 25);
		await drainMirror(tenant, group.id);
		const tail = await exportLines(tenant.host, tenant.apiKey, group.id, "?after=50");
		expect(tail.messages.map((m) => m.seq)).toEqual(Array.from({ length: 20 }, (_, i) => 51 + i));
		expect(tail.trailer).toEqual({ complete: true, lastSeq: 70, next: null });

		const seqs: number[] = [];
		let query = "?limit=30";
		for (let answers = 0; answers < 10; answers++) {
			const part = await exportLines(tenant.host, tenant.apiKey, group.id, query);
			seqs.push(...part.messages.map((m) => m.seq));
			if (part.trailer.complete) break;
			expect(part.trailer.next).toBe(`?after=${part.trailer.lastSeq}`);
			query = `${part.trailer.next}&limit=30`;
		}
		expect(seqs).toEqual(Array.from({ length: 70 }, (_, i) => i + 1));
	});

	it("ends an answer whose D1 page fails midway with an incomplete trailer, and the resume completes it", async () => {
		const tenant = await createUnlimitedTenant();
		const alice = await User.create(tenant, "alice");
		const group = await alice.createGroup([]);
		const count = TUNING.exportPage + 5;
		await sendMany(alice, group.id, count, 25);
		await drainMirror(tenant, group.id);
		// Warm the isolate's caches of the host and the API key, so D1 serves only the export below.
		await exportLines(tenant.host, tenant.apiKey, group.id, "?limit=1");
		// D1 answers the conversation's look-up and the first page, then fails: the second page.
		const cut = await exportLines(tenant.host, tenant.apiKey, group.id, "", {
			[TEST_FAULT_HEADER]: "d1:after=2",
		});
		expect(cut.messages.map((m) => m.seq)).toEqual(
			Array.from({ length: TUNING.exportPage }, (_, i) => i + 1),
		);
		expect(cut.trailer).toMatchObject({
			complete: false,
			lastSeq: TUNING.exportPage,
			next: `?after=${TUNING.exportPage}`,
			error: { code: "unavailable" },
		});
		const rest = await exportLines(tenant.host, tenant.apiKey, group.id, cut.trailer.next ?? "");
		expect(rest.messages.map((m) => m.seq)).toEqual(
			Array.from({ length: count - TUNING.exportPage }, (_, i) => TUNING.exportPage + 1 + i),
		);
		expect(rest.trailer.complete).toBe(true);

		// When the first page cannot be read, nothing has been answered yet: a plain 503.
		const refused = await call(tenant.host, `/v1/admin/conversations/${group.id}/export`, {
			token: tenant.apiKey,
			headers: { [TEST_FAULT_HEADER]: "d1:after=1" },
		});
		await expectError(refused, 503, "unavailable");
		expect(refused.headers.get("retry-after")).toBe("1");
	});

	it("stops before the queries one invocation may make, and says where to resume", async () => {
		const tenant = await createUnlimitedTenant();
		const alice = await User.create(tenant, "alice");
		const group = await alice.createGroup([]);
		await sendMany(alice, group.id, 35, 25);
		await drainMirror(tenant, group.id);
		const range = { tenantId: tenant.id, conversationId: group.id, limit: Number.POSITIVE_INFINITY };
		// Pages of 10, two pages an answer: the budget, scaled down.
		const read = async (after: number, db = env.DB) =>
			parseExport(
				await new Response(await streamExport(db, { ...range, after, pageSize: 10, maxPages: 2 })).text(),
			);
		const first = await read(0);
		expect(first.messages.map((m) => m.seq)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
		expect(first.trailer).toEqual({ complete: false, lastSeq: 20, next: "?after=20" });
		const second = await read(20);
		expect(second.messages).toHaveLength(15);
		expect(second.trailer).toEqual({ complete: true, lastSeq: 35, next: null });
		// The budget counts queries: the second of two pages failing leaves the first page and says so.
		const failing = withTestFaults(env, "d1:after=1").DB;
		const broken = await read(0, failing);
		expect(broken.messages).toHaveLength(10);
		expect(broken.trailer).toMatchObject({ complete: false, lastSeq: 10, error: { code: "unavailable" } });
	});

	it("needs the tenant's own API key, and finds only the tenant's conversations", async () => {
		const tenant = await createTenant();
		const alice = await User.create(tenant, "alice");
		const group = await alice.createGroup(["bob"]);
		await alice.send(group.id, "secret");
		await drainMirror(tenant, group.id);
		const path = `/v1/admin/conversations/${group.id}/export`;
		await expectError(await call(tenant.host, path), 401, "unauthorized");
		await expectError(await alice.call(path), 401, "unauthorized");

		const other = await createTenant();
		// Another tenant's key on this tenant's host, and this conversation's id on the other tenant's host.
		await expectError(await call(tenant.host, path, { token: other.apiKey }), 401, "unauthorized");
		await expectError(await call(other.host, path, { token: other.apiKey }), 404, "conversation_not_found");
	});
});
