/** Creating a conversation and changing who is in it. */
import { AppError } from "../../errors";
import { LIMITS, type Role } from "../../protocol";
import type { ConversationMeta, ConversationStore } from "./store";

export interface CreateInput {
	tenantId: string;
	conversationId: string;
	type: "direct" | "group";
	title: string | null;
	creatorId: string;
	memberIds: string[];
}

/** Creates the conversation; answers false when it already existed (a direct pair created before). */
/** The members other than the creator, or the refusal: checked before anything is stored. */
export function checkCreate(input: CreateInput): string[] {
	const others = [...new Set(input.memberIds)].filter((id) => id !== input.creatorId);
	if (input.type === "direct" && others.length !== 1) {
		throw new AppError("bad_request", "A direct conversation is between you and one other user");
	}
	if (others.length + 1 > LIMITS.groupMembers) {
		throw new AppError("too_many_members", `A conversation has at most ${LIMITS.groupMembers} members`);
	}
	return others;
}

export function createConversation(store: ConversationStore, input: CreateInput, now: number): boolean {
	const others = checkCreate(input);
	if (store.meta) {
		const sameDirect =
			store.meta.type === "direct" && input.type === "direct" && store.members.has(input.creatorId);
		if (sameDirect) return false;
		throw new AppError("conversation_exists", "A conversation with this id exists");
	}
	const meta: ConversationMeta = {
		tenantId: input.tenantId,
		conversationId: input.conversationId,
		type: input.type,
		title: input.type === "group" ? input.title : null,
		createdAt: now,
		createdBy: input.creatorId,
	};
	const creatorRole: Role = input.type === "group" ? "owner" : "member";
	store.create(meta, [
		{ userId: input.creatorId, role: creatorRole },
		...others.map((userId) => ({ userId, role: "member" as Role })),
	]);
	return true;
}

function requireMember(store: ConversationStore, userId: string) {
	const member = store.members.get(userId);
	if (!store.meta || !member) throw new AppError("conversation_not_found", "No such conversation");
	return member;
}

/** Adds members; answers the ids that were not members before. */
export function addMembers(
	store: ConversationStore,
	actorId: string,
	userIds: string[],
	now: number,
): string[] {
	const actor = requireMember(store, actorId);
	if (store.meta?.type === "direct")
		throw new AppError("direct_conversation", "A direct conversation has exactly two members");
	if (actor.role === "member") throw new AppError("forbidden", "Only the owner or an admin can add members");
	const added = [...new Set(userIds)].filter((id) => !store.members.has(id));
	if (store.members.size + added.length > LIMITS.groupMembers) {
		throw new AppError("too_many_members", `A conversation has at most ${LIMITS.groupMembers} members`);
	}
	store.addMembers(
		added.map((userId) => ({ userId, role: "member" })),
		now,
	);
	return added;
}

/**
 * Removes a member: an owner or admin may remove others (an admin not the owner), anyone may leave.
 * When the owner leaves, the longest-standing remaining member becomes the owner.
 */
export function removeMember(store: ConversationStore, actorId: string, userId: string): void {
	const actor = requireMember(store, actorId);
	if (store.meta?.type === "direct")
		throw new AppError("direct_conversation", "A direct conversation has exactly two members");
	const target = store.members.get(userId);
	if (!target) throw new AppError("not_found", `${userId} is not a member`);
	if (actorId !== userId) {
		if (actor.role === "member")
			throw new AppError("forbidden", "Only the owner or an admin can remove members");
		if (target.role === "owner") throw new AppError("forbidden", "The owner cannot be removed");
		if (actor.role === "admin" && target.role === "admin")
			throw new AppError("forbidden", "An admin cannot remove another admin");
	}
	store.removeMember(userId);
	if (target.role === "owner") {
		const heir = [...store.members.values()].sort(
			(a, b) => (a.role === "admin" ? 0 : 1) - (b.role === "admin" ? 0 : 1) || a.joinedAt - b.joinedAt,
		)[0];
		if (heir) store.setRole(heir.userId, "owner");
	}
}
