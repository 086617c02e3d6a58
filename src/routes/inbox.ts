/** A user's inbox (undelivered entries, its socket) and their conversation list, served by their Inbox object. */
import type { Context } from "hono";
import { requireUser } from "../auth/middleware";
import type { AppEnv } from "../context";
import { rpc } from "../errors";
import { INBOX_TENANT_HEADER, INBOX_USER_HEADER } from "../objects/inbox/inbox";
import { inboxStub } from "../objects/names";
import { SESSION_EXPIRES_HEADER, SESSION_KID_HEADER } from "../objects/sessions";
import {
	ConversationListPage,
	ConversationListQuery,
	INBOX_LIMITS,
	InboxAckBody,
	InboxPage,
	InboxQuery,
	InboxSocketQuery,
} from "../protocol";
import { forwardUpgrade, requireUpgrade, UPGRADE_RESPONSE } from "../upgrade";
import { defineRoute, json, jsonBody, routeGroup, SECURITY } from "./openapi";

/** The caller's inbox: who owns it (the object remembers it for its own deliveries) and its stub. */
function callersInbox(c: Context<AppEnv>) {
	const owner = { tenantId: c.get("tenant").id, userId: c.get("userId") };
	return { owner, stub: inboxStub(c.env, owner.tenantId, owner.userId) };
}

const common = { tags: ["Inbox"], security: SECURITY.user };

const listEntriesRoute = defineRoute({
	...common,
	method: "get",
	path: "/",
	summary: "Page the inbox",
	description:
		"Messages that arrived while the caller had no socket open on their conversation, kept until a device acks them (30 days at most). The sender of a message gets no entry for it.",
	request: { query: InboxQuery },
	responses: {
		200: json(InboxPage, "Entries after `after`, oldest first"),
	},
});

const ackRoute = defineRoute({
	...common,
	method: "post",
	path: "/ack",
	summary: "Acknowledge entries",
	description:
		"Drops the entries through `cursor` for every device of the caller and sends delivered receipts.",
	request: { body: jsonBody(InboxAckBody) },
	refusals: ["invalid_cursor"],
	responses: {
		204: { description: "Acknowledged" },
	},
});

const inboxSocketRoute = defineRoute({
	...common,
	method: "get",
	path: "/ws",
	summary: "Open the inbox socket",
	description: `A WebSocket, one per device: every unacked entry (at most ${INBOX_LIMITS.replayEntries}, then \`inbox.truncated\`), then each new one as it arrives, and the caller's conversation list as it changes. Its frames are in \`GET /asyncapi.json\`.`,
	request: { query: InboxSocketQuery },
	refusals: ["upgrade_required"],
	responses: {
		...UPGRADE_RESPONSE,
	},
});

export const inboxRoutes = routeGroup(requireUser)
	.openapi(listEntriesRoute, async (c) => {
		const { owner, stub } = callersInbox(c);
		return c.json(await rpc(() => stub.listEntries(owner, c.req.valid("query"))), 200);
	})
	.openapi(ackRoute, async (c) => {
		const { owner, stub } = callersInbox(c);
		await rpc(() => stub.ack(owner, c.req.valid("json").cursor));
		return c.body(null, 204);
	})
	.openapi(inboxSocketRoute, async (c) => {
		requireUpgrade(c);
		const { owner, stub } = callersInbox(c);
		return forwardUpgrade(stub, "https://inbox/ws", {
			[INBOX_TENANT_HEADER]: owner.tenantId,
			[INBOX_USER_HEADER]: owner.userId,
			[SESSION_EXPIRES_HEADER]: String(c.get("tokenExpiresAt")),
			[SESSION_KID_HEADER]: c.get("tokenKeyId"),
		});
	});

const listConversationsRoute = defineRoute({
	tags: ["Conversations"],
	security: SECURITY.user,
	method: "get",
	path: "/",
	summary: "List the caller's conversations",
	description:
		"Latest activity first, with the last message and the unread count. Served from the caller's inbox, so it trails a change by one outbox drain.",
	request: { query: ConversationListQuery },
	responses: {
		200: json(ConversationListPage, "A page of the list"),
	},
});

/** `GET /v1/conversations`: the user's conversation list from their inbox's index, by latest activity. */
export const conversationListRoutes = routeGroup(requireUser).openapi(listConversationsRoute, async (c) => {
	const { owner, stub } = callersInbox(c);
	return c.json(await rpc(() => stub.listConversations(owner, c.req.valid("query"))), 200);
});
