/** What a Conversation object sends to one member's Inbox in one drain. */
import type { ConversationSummary, Message } from "../../protocol";

export interface InboxOwner {
	tenantId: string;
	userId: string;
}

export interface InboxBatch {
	owner: InboxOwner;
	conversationId: string;
	/**
	 * Increases with every drain of the conversation: the inbox applies an index snapshot only when it
	 * is newer than the one it holds, so a late duplicate of an older call cannot roll the index back.
	 */
	version: number;
	/** Messages the user had no open socket for, ascending by seq. */
	entries: Message[];
	/** The user's row of the conversation list, or null when the user is no longer a member. */
	index: ConversationSummary | null;
}

/** What an inbox answers a drain. */
export interface BatchApplied {
	/** Device sockets open on the inbox now. */
	devices: number;
}
