/** Reading the history over HTTP: pages ascending after a seq, or descending before one (the latest by default). */
import type { HistoryQuery, MessagePage } from "../../protocol";
import type { Room } from "./room";

export function listMessages(room: Room, userId: string, query: HistoryQuery): MessagePage {
	const { store } = room;
	store.requireMember(userId);
	const page =
		query.after !== undefined
			? store.messagesAfter(query.after, query.limit + 1)
			: store.messagesBefore(query.before ?? Number.MAX_SAFE_INTEGER, query.limit + 1);
	return { messages: page.slice(0, query.limit), hasMore: page.length > query.limit };
}
