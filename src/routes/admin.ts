/** A tenant's backend (API key): export of a conversation's history, and the mirror's lag. */
import { z } from "zod";
import { requireApiKey } from "../auth/middleware";
import { TUNING } from "../config";
import { streamExport } from "../db/export";
import { findMirroredConversation } from "../db/mirror";
import { AppError, rpc } from "../errors";
import type { MirrorFault } from "../objects/conversation/mirror";
import { conversationStub } from "../objects/names";
import {
	CollectMediaBody,
	CollectMediaResponse,
	ExportLine,
	ExportQuery,
	MirrorStatusResponse,
} from "../protocol";
import { testHooksEnabled } from "../test-hooks";
import { ConversationParam, declared, defineRoute, json, jsonBody, routeGroup, SECURITY } from "./openapi";

const common = { tags: ["Tenant backend"], security: SECURITY.tenant };

/**
 * Streamed from D1 a page at a time (src/db/export.ts), ending in a trailer that says whether it is
 * complete. It is the mirror's copy: compare `x-edgechat-mirrored-seq` with the conversation's
 * lastSeq, or GET …/mirror, for the lag.
 */
const exportRoute = defineRoute({
	...common,
	method: "get",
	path: "/conversations/{id}/export",
	summary: "Export a conversation's history",
	description: `The history as NDJSON from the D1 mirror, one Message per line, in seq order, streamed, then one ExportTrailer line: \`{"export": {"complete", "lastSeq", "next"}}\`. An answer holds at most ${TUNING.exportPagesPerAnswer * TUNING.exportPage} messages (the queries one Worker invocation may make); when it stops early (that budget, \`limit\`, or a D1 page that failed, with its \`error\`), \`complete\` is false and \`next\` (\`?after=lastSeq\`) resumes it. An answer without a trailer was cut off. \`x-edgechat-mirrored-seq\` says how far the mirror had reached when the export began.`,
	request: { params: ConversationParam, query: ExportQuery },
	refusals: ["conversation_not_found"],
	responses: {
		200: {
			description: "NDJSON: one Message per line, in seq order, then the ExportTrailer",
			headers: {
				"x-edgechat-mirrored-seq": {
					description: "The last seq the mirror held when the export began",
					schema: { type: "integer" },
				},
			},
			content: { "application/x-ndjson": { schema: ExportLine } },
		},
	},
});

const collectMediaRoute = defineRoute({
	...common,
	method: "post",
	path: "/conversations/{id}/media/collect",
	summary: "Delete unattached media",
	description:
		"Deletes the conversation's media that no message references and that were uploaded more than `olderThanSeconds` ago (default 7 days), bytes and records; call again while `more` is true.",
	request: { params: ConversationParam, body: jsonBody(CollectMediaBody) },
	refusals: ["conversation_not_found"],
	responses: {
		200: json(CollectMediaResponse, "What was deleted"),
	},
});

const mirrorStatusRoute = defineRoute({
	...common,
	method: "get",
	path: "/conversations/{id}/mirror",
	summary: "The D1 mirror's lag",
	description: "For operators: how far D1 lags behind the conversation, and the last error if it is failing.",
	request: { params: ConversationParam },
	refusals: ["conversation_not_found"],
	responses: {
		200: json(MirrorStatusResponse, "Where the mirror stands"),
	},
});

/**
 * Test-only (404 unless the EDGECHAT_TEST_HOOKS binding is "1"): make a conversation's mirror
 * fail its D1 writes, for the tests and bench/mirror-drain.mjs. Left out of the API's documents.
 */
const mirrorFaultRoute = defineRoute({
	...common,
	hide: true,
	method: "put",
	path: "/test-hooks/conversations/{id}/mirror-fault",
	request: {
		params: ConversationParam,
		body: jsonBody(z.object({ fault: z.enum(["down", "lose-ack"]).nullable() }).strict()),
	},
	refusals: ["not_found"],
	responses: { 204: { description: "Set" } },
});

export const adminRoutes = routeGroup(requireApiKey)
	.openapi(exportRoute, async (c) => {
		const tenantId = c.get("tenant").id;
		const { id } = c.req.valid("param");
		const db = c.env.DB;
		const conversation = await findMirroredConversation(db, tenantId, id);
		if (!conversation) throw new AppError("conversation_not_found", "No such conversation in the mirror");
		const { after, limit } = c.req.valid("query");
		const body = await streamExport(db, {
			tenantId,
			conversationId: id,
			after: after ?? 0,
			limit: limit ?? Number.POSITIVE_INFINITY,
			pageSize: TUNING.exportPage,
			maxPages: TUNING.exportPagesPerAnswer,
		});
		return declared(
			new Response(body, {
				headers: {
					"content-type": "application/x-ndjson; charset=utf-8",
					"cache-control": "no-store",
					"x-edgechat-mirrored-seq": String(conversation.lastSeq),
				},
			}),
		);
	})
	.openapi(collectMediaRoute, async (c) => {
		const stub = conversationStub(c.env, c.get("tenant").id, c.req.valid("param").id);
		const olderThanMs = c.req.valid("json").olderThanSeconds * 1000;
		return c.json(await rpc(() => stub.collectUnattachedMedia(olderThanMs)), 200);
	})
	.openapi(mirrorStatusRoute, async (c) => {
		const stub = conversationStub(c.env, c.get("tenant").id, c.req.valid("param").id);
		return c.json({ mirror: await rpc(() => stub.mirrorStatus()) }, 200);
	})
	.openapi(mirrorFaultRoute, async (c) => {
		if (!testHooksEnabled(c.env)) throw new AppError("not_found", "No such route");
		const stub = conversationStub(c.env, c.get("tenant").id, c.req.valid("param").id);
		const fault: MirrorFault = c.req.valid("json").fault;
		await stub.setMirrorFault(fault);
		return c.body(null, 204);
	});
