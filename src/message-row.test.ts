import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { createTenant, User } from "../test/helpers";
import { MESSAGE_COLUMN_NAMES, type MessageRow, rowToMessage } from "./message-row";
import { conversationStub } from "./objects/names";
import { Message } from "./protocol";

const columnsOf = (rows: { name: string }[]) => rows.map((row) => row.name);

describe("the message columns, declared once", () => {
	it("are columns of the Conversation object's messages table", async () => {
		const tenant = await createTenant();
		const alice = await User.create(tenant);
		const group = await alice.createGroup([]);
		const columns = await runInDurableObject(conversationStub(env, tenant.id, group.id), (_o, state) =>
			columnsOf(state.storage.sql.exec<{ name: string }>("PRAGMA table_info(messages)").toArray()),
		);
		expect(columns).toEqual(expect.arrayContaining([...MESSAGE_COLUMN_NAMES]));
	});

	it("are columns of the D1 mirror's messages table", async () => {
		const { results } = await env.DB.prepare("PRAGMA table_info(mirrored_messages)").all<{ name: string }>();
		expect(columnsOf(results)).toEqual(expect.arrayContaining([...MESSAGE_COLUMN_NAMES]));
	});

	it("map a stored row to the message on the wire, as the protocol's schema has it", () => {
		const row: MessageRow = {
			seq: 7,
			id: "m_x",
			sender_id: "alice",
			client_id: "c1",
			text: "hi",
			attachments: JSON.stringify([{ id: "md_1", contentType: "image/png", size: 3, url: "/v1/media/md_1" }]),
			reply_to: 3,
			created_at: 0,
			edited_at: null,
			deleted_at: 1000,
		};
		const message = rowToMessage(row, "g_1");
		expect(Message.parse(message)).toEqual(message);
		expect(message).toMatchObject({
			conversationId: "g_1",
			seq: 7,
			senderId: "alice",
			replyTo: 3,
			createdAt: "1970-01-01T00:00:00.000Z",
			editedAt: null,
			deletedAt: "1970-01-01T00:00:01.000Z",
		});
		expect(message.attachments[0]?.id).toBe("md_1");
	});
});
