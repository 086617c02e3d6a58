/** A tenant's users: conversations, members, messages, read marks and the conversation socket. */
import { z } from "zod";
import { requireUser } from "../auth/middleware";
import { AppError, rpc } from "../errors";
import { SOCKET_SETTINGS_HEADER, SOCKET_USER_HEADER } from "../objects/conversation/conversation";
import {
	conversationStub,
	directConversationId,
	groupConversationId,
	newGroupConversationId,
} from "../objects/names";
import { SESSION_EXPIRES_HEADER, SESSION_KID_HEADER } from "../objects/sessions";
import {
	AddMembersBody,
	ConversationResponse,
	CreateConversationBody,
	HistoryQuery,
	Id,
	LIMITS,
	MessagePage,
	MessageResponse,
	ReadBody,
	SendMessageBody,
	SocketQuery,
	UserId,
} from "../protocol";
import { forwardUpgrade, requireUpgrade, UPGRADE_RESPONSE } from "../upgrade";
import { ConversationParam, defineRoute, json, jsonBody, routeGroup, SECURITY } from "./openapi";

const common = { security: SECURITY.user };
const conversations = { ...common, tags: ["Conversations"] };
const messages = { ...common, tags: ["Messages"] };

const createConversationRoute = defineRoute({
	...conversations,
	method: "post",
	path: "/",
	summary: "Create a conversation",
	description:
		"A direct conversation is between the caller and one other user; its id is derived from the pair, so both reach the same one whoever creates it. A group's creator is its owner; with a `clientId`, a retry by the same creator answers the group it created (200).",
	request: { body: jsonBody(CreateConversationBody) },
	refusals: ["too_many_members"],
	responses: {
		201: json(ConversationResponse, "Created"),
		200: json(
			ConversationResponse,
			"The direct conversation of the pair, which already existed, or the group a retry with the same clientId created",
		),
	},
});

const getConversationRoute = defineRoute({
	...conversations,
	method: "get",
	path: "/{id}",
	summary: "Get a conversation",
	request: { params: ConversationParam },
	refusals: ["conversation_not_found"],
	responses: {
		200: json(ConversationResponse, "The conversation and its members"),
	},
});

const addMembersRoute = defineRoute({
	...conversations,
	method: "post",
	path: "/{id}/members",
	summary: "Add members",
	description: `An owner or admin adds members to a group, up to ${LIMITS.groupMembers} in all.`,
	request: { params: ConversationParam, body: jsonBody(AddMembersBody) },
	refusals: ["direct_conversation", "too_many_members", "forbidden", "conversation_not_found"],
	responses: {
		200: json(ConversationResponse, "The conversation with its members"),
	},
});

const removeMemberRoute = defineRoute({
	...conversations,
	method: "delete",
	path: "/{id}/members/{userId}",
	summary: "Remove a member, or leave",
	description:
		"An owner or admin removes others (an admin cannot remove the owner or another admin); any member may leave. When the owner leaves, the earliest admin, else the earliest member, becomes owner.",
	request: { params: z.object({ id: Id, userId: UserId }) },
	refusals: ["direct_conversation", "forbidden", "conversation_not_found", "not_found"],
	responses: {
		204: { description: "Removed" },
	},
});

const listMessagesRoute = defineRoute({
	...messages,
	method: "get",
	path: "/{id}/messages",
	summary: "Page the history",
	description:
		"`after=SEQ` pages up (ascending), `before=SEQ` pages down (descending); with neither, the latest messages, descending.",
	request: { params: ConversationParam, query: HistoryQuery },
	refusals: ["conversation_not_found"],
	responses: {
		200: json(MessagePage, "A page of messages"),
	},
});

const sendMessageRoute = defineRoute({
	...messages,
	method: "post",
	path: "/{id}/messages",
	summary: "Send a message",
	description:
		"`(senderId, clientId)` is unique in a conversation, forever: a retry answers the stored original, even when the sender is over its rate.",
	request: { params: ConversationParam, body: jsonBody(SendMessageBody) },
	refusals: [
		"text_required",
		"invalid_reply_to",
		"invalid_attachment",
		"conversation_not_found",
		"text_too_long",
		"rate_limited",
	],
	responses: {
		201: json(MessageResponse, "Stored, with its seq"),
		200: json(MessageResponse, "A retry of a clientId already stored: the original"),
	},
});

const markReadRoute = defineRoute({
	...messages,
	method: "post",
	path: "/{id}/read",
	summary: "Move the read mark",
	description: "A read mark never moves backwards; a mark behind the current one changes nothing.",
	request: { params: ConversationParam, body: jsonBody(ReadBody) },
	refusals: ["invalid_seq", "conversation_not_found"],
	responses: {
		204: { description: "Marked" },
	},
});

const conversationSocketRoute = defineRoute({
	...conversations,
	method: "get",
	path: "/{id}/ws",
	summary: "Open the conversation's socket",
	description:
		"A WebSocket: every message after `after` exactly once and in order, then the live stream. Its frames are in `GET /asyncapi.json`.",
	request: { params: ConversationParam, query: SocketQuery },
	refusals: ["conversation_not_found", "upgrade_required"],
	responses: {
		...UPGRADE_RESPONSE,
	},
});

export const conversationRoutes = routeGroup(requireUser)
	.openapi(createConversationRoute, async (c) => {
		const body = c.req.valid("json");
		const userId = c.get("userId");
		const tenantId = c.get("tenant").id;
		let conversationId: string;
		if (body.type === "direct") {
			if (body.memberIds[0] === userId)
				throw new AppError("bad_request", "A direct conversation needs another user");
			conversationId = await directConversationId(userId, body.memberIds[0]);
		} else {
			conversationId = body.clientId
				? await groupConversationId(userId, body.clientId)
				: newGroupConversationId();
		}
		const stub = conversationStub(c.env, tenantId, conversationId);
		const { created, conversation } = await rpc(() =>
			stub.create({
				tenantId,
				conversationId,
				type: body.type,
				title: body.type === "group" ? (body.title ?? null) : null,
				creatorId: userId,
				memberIds: body.memberIds,
				clientId: body.type === "group" ? (body.clientId ?? null) : null,
			}),
		);
		return c.json({ conversation }, created ? 201 : 200);
	})
	.openapi(getConversationRoute, async (c) => {
		const stub = conversationStub(c.env, c.get("tenant").id, c.req.valid("param").id);
		return c.json({ conversation: await rpc(() => stub.getConversation(c.get("userId"))) }, 200);
	})
	.openapi(addMembersRoute, async (c) => {
		const stub = conversationStub(c.env, c.get("tenant").id, c.req.valid("param").id);
		const conversation = await rpc(() => stub.addMembers(c.get("userId"), c.req.valid("json").userIds));
		return c.json({ conversation }, 200);
	})
	.openapi(removeMemberRoute, async (c) => {
		const { id, userId } = c.req.valid("param");
		const stub = conversationStub(c.env, c.get("tenant").id, id);
		await rpc(() => stub.removeMember(c.get("userId"), userId));
		return c.body(null, 204);
	})
	.openapi(listMessagesRoute, async (c) => {
		const stub = conversationStub(c.env, c.get("tenant").id, c.req.valid("param").id);
		return c.json(await rpc(() => stub.listMessages(c.get("userId"), c.req.valid("query"))), 200);
	})
	.openapi(sendMessageRoute, async (c) => {
		const tenant = c.get("tenant");
		const stub = conversationStub(c.env, tenant.id, c.req.valid("param").id);
		const result = await rpc(() => stub.sendMessage(c.get("userId"), c.req.valid("json"), tenant.settings));
		return c.json({ message: result.message }, result.duplicate ? 200 : 201);
	})
	.openapi(markReadRoute, async (c) => {
		const stub = conversationStub(c.env, c.get("tenant").id, c.req.valid("param").id);
		await rpc(() => stub.markRead(c.get("userId"), c.req.valid("json").seq));
		return c.body(null, 204);
	})
	.openapi(conversationSocketRoute, async (c) => {
		requireUpgrade(c);
		const tenant = c.get("tenant");
		const { after } = c.req.valid("query");
		const url = new URL("https://conversation/ws");
		if (after !== undefined) url.searchParams.set("after", String(after));
		const stub = conversationStub(c.env, tenant.id, c.req.valid("param").id);
		return forwardUpgrade(stub, url, {
			[SOCKET_USER_HEADER]: c.get("userId"),
			[SOCKET_SETTINGS_HEADER]: JSON.stringify(tenant.settings),
			[SESSION_EXPIRES_HEADER]: String(c.get("tokenExpiresAt")),
			[SESSION_KID_HEADER]: c.get("tokenKeyId"),
		});
	});
