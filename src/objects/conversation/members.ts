/**
 * Creating a conversation and changing who is in it: one door each for the HTTP routes, with their
 * side effects (the members' conversation lists, the mirror, the room's sockets) inside.
 */
import { AppError } from "../../errors";
import { LIMITS, type Role } from "../../protocol";
import { endSession, SESSIONS_WORK } from "../sessions";
import { queueIndexUpdate, queueRemoval, roleSnapshot } from "./deliver";
import type { Room } from "./room";
import type { ConversationMeta } from "./store";

export interface CreateInput {
	tenantId: string;
	conversationId: string;
	type: "direct" | "group";
	title: string | null;
	creatorId: string;
	memberIds: string[];
	/** A group's creation key (its id is derived from it): a retry by the creator answers the group. */
	clientId?: string | null;
}

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

/**
 * Creates the conversation; answers false when it already existed: a direct pair created before, or
 * a group this creator created with this clientId (a retry, answered with the group as it is now,
 * whatever the retry's body says; 404 once the creator is no longer in it, as for any non-member).
 */
export function createConversation(room: Room, input: CreateInput, now = Date.now()): boolean {
	const { store } = room;
	const others = checkCreate(input);
	if (store.meta) {
		const sameDirect =
			store.meta.type === "direct" && input.type === "direct" && store.members.has(input.creatorId);
		if (sameDirect) return false;
		const retriedGroup =
			store.meta.type === "group" &&
			input.type === "group" &&
			input.clientId != null &&
			store.meta.createdBy === input.creatorId &&
			store.meta.clientId === input.clientId;
		if (retriedGroup) {
			store.requireMember(input.creatorId);
			return false;
		}
		// Group ids are random or derived from their creator and clientId, a direct id from its pair:
		// no other input reaches this, only a bug.
		throw new Error(`conversation ${input.conversationId} exists as another ${store.meta.type}`);
	}
	const meta: ConversationMeta = {
		tenantId: input.tenantId,
		conversationId: input.conversationId,
		type: input.type,
		title: input.type === "group" ? input.title : null,
		createdAt: now,
		createdBy: input.creatorId,
		...(input.type === "group" && input.clientId ? { clientId: input.clientId } : {}),
	};
	const creatorRole: Role = input.type === "group" ? "owner" : "member";
	store.create(meta, [
		{ userId: input.creatorId, role: creatorRole },
		...others.map((userId) => ({ userId, role: "member" as Role })),
	]);
	queueIndexUpdate(room, store.members.keys());
	room.mirror.membersChanged();
	return true;
}

/** Adds members; answers the ids that were not members before. */
export function addMembers(room: Room, actorId: string, userIds: string[], now = Date.now()): string[] {
	const { store } = room;
	const actor = store.requireMember(actorId);
	if (store.meta?.type === "direct")
		throw new AppError("direct_conversation", "A direct conversation has exactly two members");
	if (actor.role === "member") throw new AppError("forbidden", "Only the owner or an admin can add members");
	const added = [...new Set(userIds)].filter((id) => !store.members.has(id));
	if (store.members.size + added.length > LIMITS.groupMembers) {
		throw new AppError("too_many_members", `A conversation has at most ${LIMITS.groupMembers} members`);
	}
	if (added.length === 0) return added;
	store.addMembers(
		added.map((userId) => ({ userId, role: "member" })),
		now,
	);
	queueIndexUpdate(room, added);
	room.mirror.membersChanged();
	room.out.broadcast({ type: "member.added", userIds: added });
	return added;
}

/**
 * Removes a member: an owner or admin may remove others (an admin not the owner), anyone may leave.
 * When the owner leaves, the longest-standing remaining member becomes the owner.
 */
export function removeMember(room: Room, actorId: string, userId: string): void {
	const { store } = room;
	const actor = store.requireMember(actorId);
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
	const rolesBefore = roleSnapshot(store);
	store.removeMember(userId);
	if (target.role === "owner") {
		const heir = [...store.members.values()].sort(
			(a, b) => (a.role === "admin" ? 0 : 1) - (b.role === "admin" ? 0 : 1) || a.joinedAt - b.joinedAt,
		)[0];
		if (heir) store.setRole(heir.userId, "owner");
	}
	queueRemoval(room, userId, rolesBefore);
	room.mirror.membersChanged();
	// Told at once; the client closes (the server does, after the grace, if it does not: sessions.ts).
	for (const ws of room.sockets.ofUser(userId)) {
		room.work.schedule(
			SESSIONS_WORK,
			endSession(ws, "removed_from_conversation", "removed from the conversation"),
		);
	}
	room.out.broadcast({ type: "member.removed", userId });
}
