/** A tenant's backend (API key): export of a conversation's history, and the mirror's lag. */

import { Hono } from "hono";
import { z } from "zod";
import { requireApiKey } from "../auth/middleware";
import { TUNING } from "../config";
import type { AppEnv } from "../context";
import { exportPage, findMirroredConversation } from "../db/mirror";
import { AppError, rpc } from "../errors";
import type { MirrorFault } from "../objects/conversation/mirror";
import { conversationStub } from "../objects/names";
import { CollectMediaBody, Id } from "../protocol";
import { testHooksEnabled } from "../test-hooks";
import { validate } from "../validate";

const ConversationParam = z.object({ id: Id });
const encoder = new TextEncoder();

export const adminRoutes = new Hono<AppEnv>()
	.use(requireApiKey)
	/**
	 * The conversation's history as NDJSON, one message per line in seq order, streamed from D1 a
	 * page at a time. It is the mirror's copy: `x-edgechat-mirrored-seq` says how far it reached
	 * when the export began (compare with the conversation's lastSeq, or GET …/mirror, for the lag).
	 */
	.get("/conversations/:id/export", validate("param", ConversationParam), async (c) => {
		const tenantId = c.get("tenant").id;
		const { id } = c.req.valid("param");
		const db = c.env.DB;
		const conversation = await findMirroredConversation(db, tenantId, id);
		if (!conversation) throw new AppError("conversation_not_found", "No such conversation in the mirror");
		let after = 0;
		const body = new ReadableStream<Uint8Array>(
			{
				async pull(controller) {
					const page = await exportPage(db, tenantId, id, after, TUNING.exportPage);
					if (page.length > 0) {
						controller.enqueue(encoder.encode(page.map((m) => `${JSON.stringify(m)}\n`).join("")));
						after = page.at(-1)?.seq ?? after;
					}
					if (page.length < TUNING.exportPage) controller.close();
				},
			},
			// One page in flight at a time: a slow reader holds D1 back instead of filling memory.
			{ highWaterMark: 0 },
		);
		return new Response(body, {
			headers: {
				"content-type": "application/x-ndjson; charset=utf-8",
				"cache-control": "no-store",
				"x-edgechat-mirrored-seq": String(conversation.lastSeq),
			},
		});
	})
	/**
	 * Deletes the conversation's media that no message references and that were uploaded more than
	 * `olderThanSeconds` ago (default 7 days), bytes and records; call again while `more` is true.
	 */
	.post(
		"/conversations/:id/media/collect",
		validate("param", ConversationParam),
		validate("json", CollectMediaBody),
		async (c) => {
			const stub = conversationStub(c.env, c.get("tenant").id, c.req.valid("param").id);
			const olderThanMs = c.req.valid("json").olderThanSeconds * 1000;
			return c.json(await rpc(() => stub.collectUnattachedMedia(olderThanMs)));
		},
	)
	/** For operators: how far D1 lags behind the conversation, and the last error if it is failing. */
	.get("/conversations/:id/mirror", validate("param", ConversationParam), async (c) => {
		const stub = conversationStub(c.env, c.get("tenant").id, c.req.valid("param").id);
		return c.json({ mirror: await rpc(() => stub.mirrorStatus()) });
	})
	/**
	 * Test-only (404 unless the EDGECHAT_TEST_HOOKS binding is "1"): make a conversation's mirror
	 * fail its D1 writes, for the tests and bench/mirror-drain.mjs.
	 */
	.put(
		"/test-hooks/conversations/:id/mirror-fault",
		validate("param", ConversationParam),
		validate("json", z.object({ fault: z.enum(["down", "lose-ack"]).nullable() }).strict()),
		async (c) => {
			if (!testHooksEnabled(c.env)) throw new AppError("not_found", "No such route");
			const stub = conversationStub(c.env, c.get("tenant").id, c.req.valid("param").id);
			const fault: MirrorFault = c.req.valid("json").fault;
			await stub.setMirrorFault(fault);
			return c.body(null, 204);
		},
	);
