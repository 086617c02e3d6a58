/**
 * Server-side tuning: batch sizes, retention, clean-up. Not part of the contract (src/protocol.ts),
 * so a client never depends on them; docs/api.md says which of them a user can observe.
 */
export const TUNING = {
	/**
	 * Messages written to D1 per mirror drain: one D1 batch of 8-row statements (100 bound parameters
	 * each), 40 of them plus the conversation and members, under the 50 queries a Worker invocation may
	 * make on the free plan.
	 */
	mirrorBatch: 320,
	/** Rows per D1 query while an export streams. */
	exportPage: 500,
	/**
	 * D1 queries one export answer may make for its pages: a Worker invocation may make 50 on the free
	 * plan (1,000 on paid), and resolving the tenant, the API key and the conversation takes up to 3
	 * more. 40 pages of 500 are 20,000 messages per answer; the trailer then says where to resume.
	 */
	exportPagesPerAnswer: 40,
	/** Media deleted per clean-up call (one R2 delete takes at most 1000 keys). */
	mediaCollectBatch: 500,
	/** Unacked inbox entries older than this are dropped by the inbox's alarm (docs/api.md). */
	inboxRetentionMs: 30 * 24 * 3600 * 1000,
	/**
	 * How long a socket told `session.ended` may stay open before the server closes it itself: the
	 * client's own close takes a round trip, and a server-side close keeps the TCP connection until
	 * the object hibernates (src/objects/sessions.ts).
	 */
	sessionEndGraceMs: 2000,
	/** How old an object's answer about the tenant's active signing keys may be when a socket acts. */
	signingKeyCheckMs: 30_000,
	/**
	 * How often an object with open sockets asks D1 whether their signing keys were revoked: one D1
	 * read per object per period, so 100,000 users online cost about 330 reads a second at 5 min.
	 */
	revocationSweepMs: 5 * 60_000,
} as const;
