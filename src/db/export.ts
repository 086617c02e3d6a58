/**
 * A conversation's export: its mirrored messages as NDJSON, read from D1 a page at a time, ending in a
 * trailer line (`ExportTrailer`) that says whether the answer is complete and, if not, where to resume.
 *
 * An answer stops early, and says so in its trailer, when a page fails (D1 unreachable midway: the
 * status line, 200, was sent long ago) or when one more page would exceed the queries a Worker
 * invocation may make (`TUNING.exportPagesPerAnswer`). The first page is read before the answer
 * starts, so an export that cannot begin is a plain 503. A stream that ends without a trailer was cut
 * off (the connection, the Worker): never complete.
 */
import { toAppError } from "../errors";
import type { ExportTrailer, Message } from "../protocol";
import { exportPage } from "./mirror";

const encoder = new TextEncoder();

export interface ExportRange {
	tenantId: string;
	conversationId: string;
	/** Messages with seq > after. */
	after: number;
	/** At most this many messages in the answer. */
	limit: number;
	pageSize: number;
	/** Pages (D1 queries) the answer may read. */
	maxPages: number;
}

function lines(messages: Message[]): Uint8Array {
	return encoder.encode(messages.map((m) => `${JSON.stringify(m)}\n`).join(""));
}

function trailer(complete: boolean, lastSeq: number, error?: ExportTrailer["export"]["error"]): Uint8Array {
	const line: ExportTrailer = {
		export: {
			complete,
			lastSeq,
			next: complete ? null : `?after=${lastSeq}`,
			...(error ? { error } : {}),
		},
	};
	return encoder.encode(`${JSON.stringify(line)}\n`);
}

/** Reads the first page (a failure throws: nothing was answered yet), then streams the rest. */
export async function streamExport(db: D1Database, range: ExportRange): Promise<ReadableStream<Uint8Array>> {
	const { tenantId, conversationId } = range;
	let pages = 0;
	let sent = 0;
	let lastSeq = range.after;
	const read = async (): Promise<{ messages: Message[]; end: boolean }> => {
		const size = Math.min(range.pageSize, range.limit - sent);
		pages++;
		const messages = await exportPage(db, tenantId, conversationId, lastSeq, size);
		sent += messages.length;
		lastSeq = messages.at(-1)?.seq ?? lastSeq;
		return { messages, end: messages.length < size };
	};
	let next: { messages: Message[]; end: boolean } | null = await read();

	return new ReadableStream<Uint8Array>(
		{
			async pull(controller) {
				if (next) {
					const page = next;
					next = null;
					if (page.messages.length > 0) controller.enqueue(lines(page.messages));
					if (page.end) {
						controller.enqueue(trailer(true, lastSeq));
						controller.close();
						return;
					}
				}
				if (sent >= range.limit || pages >= range.maxPages) {
					// Complete only if nothing is left, which one more page would tell; the resume finds out.
					controller.enqueue(trailer(false, lastSeq));
					controller.close();
					return;
				}
				try {
					next = await read();
				} catch (error) {
					const { code, message, retryAfter } = toAppError(error, `export of ${conversationId}`);
					controller.enqueue(
						trailer(false, lastSeq, { code, message, ...(retryAfter ? { retryAfter } : {}) }),
					);
					controller.close();
				}
			},
		},
		// One page in flight at a time: a slow reader holds D1 back instead of filling memory.
		{ highWaterMark: 0 },
	);
}
