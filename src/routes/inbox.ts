/** A user's inbox (undelivered entries, its socket) and their conversation list, served by their Inbox object. */
import { Hono } from "hono";
import { z } from "zod";
import { requireUser } from "../auth/middleware";
import type { AppEnv } from "../context";
import { rpc } from "../errors";
import { INBOX_TENANT_HEADER, INBOX_USER_HEADER } from "../objects/inbox/inbox";
import { inboxStub } from "../objects/names";
import { ConversationListQuery, InboxAckBody, InboxQuery } from "../protocol";
import { forwardUpgrade, requireUpgrade } from "../upgrade";
import { validate } from "../validate";

export const inboxRoutes = new Hono<AppEnv>()
	.use(requireUser)
	.get("/", validate("query", InboxQuery), async (c) => {
		const tenantId = c.get("tenant").id;
		const userId = c.get("userId");
		const stub = inboxStub(c.env, tenantId, userId);
		return c.json(await rpc(() => stub.listEntries({ tenantId, userId }, c.req.valid("query"))));
	})
	.post("/ack", validate("json", InboxAckBody), async (c) => {
		const tenantId = c.get("tenant").id;
		const userId = c.get("userId");
		const stub = inboxStub(c.env, tenantId, userId);
		await rpc(() => stub.ack({ tenantId, userId }, c.req.valid("json").cursor));
		return c.body(null, 204);
	})
	.get("/ws", validate("query", z.object({ token: z.string().optional() })), async (c) => {
		requireUpgrade(c.req.header("upgrade"));
		const tenantId = c.get("tenant").id;
		const userId = c.get("userId");
		return forwardUpgrade(inboxStub(c.env, tenantId, userId), "https://inbox/ws", {
			[INBOX_TENANT_HEADER]: tenantId,
			[INBOX_USER_HEADER]: userId,
		});
	});

/** `GET /v1/conversations`: the user's conversation list from their inbox's index, by latest activity. */
export const conversationListRoutes = new Hono<AppEnv>()
	.use(requireUser)
	.get("/", validate("query", ConversationListQuery), async (c) => {
		const tenantId = c.get("tenant").id;
		const userId = c.get("userId");
		const stub = inboxStub(c.env, tenantId, userId);
		return c.json(await rpc(() => stub.listConversations({ tenantId, userId }, c.req.valid("query"))));
	});
