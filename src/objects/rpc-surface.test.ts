import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { createTenant, User } from "../../test/helpers";
import { Conversation } from "./conversation/conversation";
import { Inbox } from "./inbox/inbox";
import { conversationStub, inboxStub } from "./names";

/**
 * The runtime makes every method and accessor of a Durable Object class's prototype callable on its
 * stub (instance properties and #private members are not exposed:
 * https://developers.cloudflare.com/workers/runtime-apis/rpc/visibility/). These lists are the
 * objects' whole RPC surface: something new on them is a decision, not an accident.
 */
const RUNTIME_HANDLERS = ["alarm", "fetch", "webSocketClose", "webSocketError", "webSocketMessage"];

const CONVERSATION_RPC = [
	"addMembers",
	"authorizeMedia",
	"collectUnattachedMedia",
	"create",
	"findUpload",
	"getConversation",
	"injectReset",
	"listMessages",
	"markDelivered",
	"markRead",
	"mirrorStatus",
	"registerMedia",
	"removeMember",
	"sendMessage",
	"setMirrorFault",
];

const INBOX_RPC = ["ack", "apply", "injectFaults", "listConversations", "listEntries"];

function publicSurface(cls: { prototype: object }): string[] {
	return Object.getOwnPropertyNames(cls.prototype)
		.filter((name) => name !== "constructor")
		.sort();
}

describe("the objects' RPC surface", () => {
	it("is exactly the Conversation's RPC methods and the runtime's handlers", () => {
		const handlers = RUNTIME_HANDLERS.filter((name) => Object.hasOwn(Conversation.prototype, name));
		expect(publicSurface(Conversation)).toEqual([...CONVERSATION_RPC, ...handlers].sort());
	});

	it("is exactly the Inbox's RPC methods and the runtime's handlers", () => {
		const handlers = RUNTIME_HANDLERS.filter((name) => Object.hasOwn(Inbox.prototype, name));
		expect(publicSurface(Inbox)).toEqual([...INBOX_RPC, ...handlers].sort());
	});

	it("keeps every piece of an object's state private", async () => {
		const tenant = await createTenant();
		const alice = await User.create(tenant);
		const group = await alice.createGroup([]);
		const own = (instance: object) => Object.getOwnPropertyNames(instance).sort();
		// `ctx` and `env` are the base class's own (and not exposed over RPC either).
		expect(await runInDurableObject(conversationStub(env, tenant.id, group.id), own)).toEqual(["ctx", "env"]);
		expect(await runInDurableObject(inboxStub(env, tenant.id, alice.id), own)).toEqual(["ctx", "env"]);
	});
});
