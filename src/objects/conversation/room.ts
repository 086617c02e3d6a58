/**
 * What the Conversation object's commands and background work see of it: a narrow context, the way
 * partyserver hands hooks a connection. The class builds one Room when the conversation exists and
 * keeps everything else private; no module here imports the class.
 */
import type { TenantSettings } from "../../protocol";
import type { inboxStub } from "../names";
import type { WorkQueue } from "../work-queue";
import type { Broadcaster } from "./broadcaster";
import type { Mirror } from "./mirror";
import type { InboxOutbox } from "./outbox";
import type { RateLimiter } from "./rate-limiter";
import type { RoomSockets } from "./sockets";
import type { ConversationStore } from "./store";

export type InboxStub = ReturnType<typeof inboxStub>;

export interface Room {
	readonly store: ConversationStore;
	/** What the room owes its members' inboxes (outbox.ts, drained by deliver.ts). */
	readonly outbox: InboxOutbox;
	/** The D1 history mirror (mirror.ts). */
	readonly mirror: Mirror;
	/** The object's one alarm, multiplexed. */
	readonly work: WorkQueue;
	readonly sockets: RoomSockets;
	/** Broadcasts, with new messages batched per burst. */
	readonly out: Broadcaster;
	readonly limiter: RateLimiter;
	/** The tenant's settings, as the latest call from the Worker carried them. */
	readonly settings: TenantSettings;
	/** A stub of the member's inbox, made once per member and reused. */
	inboxOf(userId: string): InboxStub;
}
