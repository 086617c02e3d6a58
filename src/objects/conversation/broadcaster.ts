/**
 * The room's outgoing broadcasts. New messages are batched: a `message.created` waits for the rest of
 * the current burst of events (a zero-delay timer), then goes out as one frame per socket, which is
 * `message.created` for a lone message and `messages.created {messages}` for several. Sending a frame
 * to a socket is what a busy room spends most on (docs/benchmarks.md), so under load this more than
 * doubles what a 100-member room sustains; a lone message leaves at once.
 *
 * Every other broadcast, and every replay, flushes what is pending first, so each socket sees frames in
 * the order the object produced them and a replay never repeats a message that is still pending.
 *
 * Why a timer is safe here when durable work goes through the alarm: the pending messages are already
 * written (the output gate holds the frames until the write is durable), a pending timer keeps the
 * object from hibernating, and if the object is evicted before the flush, its sockets close and the
 * clients resume by seq.
 */
import type { Message, ServerFrame } from "../../protocol";
import type { RoomSockets } from "./sockets";

/** Keeps a batch frame well under the ~1 MiB that a hibernatable socket's frame may carry. */
const MAX_BATCH_BYTES = 256 * 1024;
const MAX_BATCH_MESSAGES = 200;

/**
 * Live delivered receipts (the members who had the room open when a message was stored) wait this long
 * for the ones that follow, so a busy room sends each socket a few `deliveries.updated` a second
 * rather than one per message.
 */
export const RECEIPTS_COALESCE_MS = 250;

export class Broadcaster {
	#pending: Message[] = [];
	#pendingBytes = 0;
	/** Delivered watermarks moved by live deliveries, not yet announced: user → seq. */
	#receipts = new Map<string, number>();

	constructor(private readonly sockets: RoomSockets) {}

	messageCreated(message: Message): void {
		if (this.#pending.length === 0) setTimeout(() => this.flush(), 0);
		this.#pending.push(message);
		// An upper bound of the message's JSON: UTF-16 units times 3, plus the fixed fields.
		this.#pendingBytes += (message.text?.length ?? 0) * 3 + message.attachments.length * 256 + 512;
		if (this.#pendingBytes >= MAX_BATCH_BYTES || this.#pending.length >= MAX_BATCH_MESSAGES) this.flush();
	}

	/** Sends what is pending now. */
	flush(): void {
		const batch = this.#pending;
		if (batch.length === 0) return;
		this.#pending = [];
		this.#pendingBytes = 0;
		const [only] = batch;
		this.sockets.broadcast(
			batch.length === 1 && only
				? { type: "message.created", message: only }
				: { type: "messages.created", messages: batch },
		);
	}

	/** Members' delivered watermarks moved: announced together, after the messages they refer to. */
	deliveries(moves: readonly { userId: string; seq: number }[]): void {
		if (moves.length === 0) return;
		if (this.#receipts.size === 0) setTimeout(() => this.flushReceipts(), RECEIPTS_COALESCE_MS);
		for (const { userId, seq } of moves)
			this.#receipts.set(userId, Math.max(seq, this.#receipts.get(userId) ?? 0));
	}

	/** Announces the pending receipts now: one `delivered.updated`, or one `deliveries.updated` for several. */
	flushReceipts(): void {
		if (this.#receipts.size === 0) return;
		const moves = [...this.#receipts].map(([userId, seq]) => ({ userId, seq }));
		this.#receipts = new Map();
		const [only] = moves;
		this.broadcast(
			moves.length === 1 && only
				? { type: "delivered.updated", ...only }
				: { type: "deliveries.updated", deliveries: moves },
		);
	}

	/** Any other frame to every socket (but those `except` names), after the pending messages. */
	broadcast(frame: ServerFrame, except?: (ws: WebSocket) => boolean): void {
		this.flush();
		this.sockets.broadcast(frame, except);
	}
}
