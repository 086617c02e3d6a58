/**
 * The only place Durable Object names are built. Every name embeds the tenant id, and neither a
 * tenant id nor a conversation id can contain ":", so one tenant can never address another's objects.
 */
import { nanoid } from "nanoid";
import { base64UrlEncode } from "../auth/crypto";

export function conversationName(tenantId: string, conversationId: string): string {
	return `${tenantId}:${conversationId}`;
}

export function conversationStub(env: Env, tenantId: string, conversationId: string) {
	return env.CONVERSATION.getByName(conversationName(tenantId, conversationId));
}

/** One Inbox per (tenant, user); user ids cannot contain ":" either (see UserId in protocol.ts). */
export function inboxName(tenantId: string, userId: string): string {
	return `${tenantId}:${userId}`;
}

export function inboxStub(env: Env, tenantId: string, userId: string) {
	return env.INBOX.getByName(inboxName(tenantId, userId));
}

/** A direct conversation's id is derived from the pair, so both users reach the same one. */
export async function directConversationId(a: string, b: string): Promise<string> {
	const [first, second] = a < b ? [a, b] : [b, a];
	const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(`${first}\n${second}`));
	return `d_${base64UrlEncode(new Uint8Array(digest)).slice(0, 27)}`;
}

export function newGroupConversationId(): string {
	return `g_${nanoid(21)}`;
}

/**
 * The id of the group `creatorId` creates with `clientId`: derived, so that a retry reaches the same
 * object, which then answers the group it created (the creation's state lives where the group does,
 * with no second store to keep in step). 126 bits of SHA-256, in the alphabet of random ids; the
 * creator is part of the input, so no one else can create at an id another user will get.
 */
export async function groupConversationId(creatorId: string, clientId: string): Promise<string> {
	return `g_${await digestId(`group\n${creatorId}\n${clientId}`, 21)}`;
}

async function digestId(input: string, length: number): Promise<string> {
	const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(input));
	return base64UrlEncode(new Uint8Array(digest)).slice(0, length);
}
