/** A tenant's users: conversations, members, messages, read marks and the conversation socket. */
import { Hono } from "hono";
import { z } from "zod";
import { requireUser } from "../auth/middleware";
import type { AppEnv } from "../context";
import { AppError, rpc } from "../errors";
import {
	SOCKET_EXPIRES_HEADER,
	SOCKET_SETTINGS_HEADER,
	SOCKET_USER_HEADER,
} from "../objects/conversation/conversation";
import { conversationStub, directConversationId, newGroupConversationId } from "../objects/names";
import {
	AddMembersBody,
	CreateConversationBody,
	HistoryQuery,
	Id,
	ReadBody,
	SendMessageBody,
	SocketQuery,
	UserId,
} from "../protocol";
import { forwardUpgrade, requireUpgrade } from "../upgrade";
import { validate } from "../validate";

const ConversationParam = z.object({ id: Id });

export const conversationRoutes = new Hono<AppEnv>()
	.use(requireUser)
	.post("/", validate("json", CreateConversationBody), async (c) => {
		const body = c.req.valid("json");
		const userId = c.get("userId");
		const tenantId = c.get("tenant").id;
		let conversationId: string;
		if (body.type === "direct") {
			if (body.memberIds[0] === userId)
				throw new AppError("bad_request", "A direct conversation needs another user");
			conversationId = await directConversationId(userId, body.memberIds[0]);
		} else {
			conversationId = newGroupConversationId();
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
			}),
		);
		return c.json({ conversation }, created ? 201 : 200);
	})
	.get("/:id", validate("param", ConversationParam), async (c) => {
		const stub = conversationStub(c.env, c.get("tenant").id, c.req.valid("param").id);
		return c.json({ conversation: await rpc(() => stub.getConversation(c.get("userId"))) });
	})
	.post("/:id/members", validate("param", ConversationParam), validate("json", AddMembersBody), async (c) => {
		const stub = conversationStub(c.env, c.get("tenant").id, c.req.valid("param").id);
		const conversation = await rpc(() => stub.addMembers(c.get("userId"), c.req.valid("json").userIds));
		return c.json({ conversation });
	})
	.delete("/:id/members/:userId", validate("param", z.object({ id: Id, userId: UserId })), async (c) => {
		const { id, userId } = c.req.valid("param");
		const stub = conversationStub(c.env, c.get("tenant").id, id);
		await rpc(() => stub.removeMember(c.get("userId"), userId));
		return c.body(null, 204);
	})
	.get("/:id/messages", validate("param", ConversationParam), validate("query", HistoryQuery), async (c) => {
		const stub = conversationStub(c.env, c.get("tenant").id, c.req.valid("param").id);
		return c.json(await rpc(() => stub.listMessages(c.get("userId"), c.req.valid("query"))));
	})
	.post(
		"/:id/messages",
		validate("param", ConversationParam),
		validate("json", SendMessageBody),
		async (c) => {
			const tenant = c.get("tenant");
			const stub = conversationStub(c.env, tenant.id, c.req.valid("param").id);
			const result = await rpc(() => stub.sendMessage(c.get("userId"), c.req.valid("json"), tenant.settings));
			return c.json({ message: result.message }, result.duplicate ? 200 : 201);
		},
	)
	.post("/:id/read", validate("param", ConversationParam), validate("json", ReadBody), async (c) => {
		const stub = conversationStub(c.env, c.get("tenant").id, c.req.valid("param").id);
		await rpc(() => stub.markRead(c.get("userId"), c.req.valid("json").seq));
		return c.body(null, 204);
	})
	.get("/:id/ws", validate("param", ConversationParam), validate("query", SocketQuery), async (c) => {
		requireUpgrade(c.req.header("upgrade"));
		const tenant = c.get("tenant");
		const { after } = c.req.valid("query");
		const url = new URL("https://conversation/ws");
		if (after !== undefined) url.searchParams.set("after", String(after));
		const stub = conversationStub(c.env, tenant.id, c.req.valid("param").id);
		return forwardUpgrade(stub, url, {
			[SOCKET_USER_HEADER]: c.get("userId"),
			[SOCKET_SETTINGS_HEADER]: JSON.stringify(tenant.settings),
			[SOCKET_EXPIRES_HEADER]: String(c.get("tokenExpiresAt")),
		});
	});
