/**
 * An upload cut short by the client (its body stream errors midway, as when the connection drops) is
 * the client's failure: 400, nothing in R2, and no "unhandled error" in the log. With and without a
 * Content-Length (a single put through a fixed-length stream, or a multipart upload of whole parts).
 */
import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import { createTenant, expectError, type TestTenant, User } from "../../test/helpers";
import { storedKeys, text } from "../../test/media";
import { app } from "../app";
import { PART_BYTES } from "./upload";

/** A body that sends `chunks`, then fails as a dropped connection does. */
function cutShort(chunks: Uint8Array[]): ReadableStream<Uint8Array> {
	let i = 0;
	return new ReadableStream<Uint8Array>({
		pull(controller) {
			const chunk = chunks[i++];
			if (chunk) controller.enqueue(chunk);
			else controller.error(new Error("Network connection lost."));
		},
	});
}

/**
 * Calls the app in this isolate: a body handed to the Worker through the runtime (`exports.default`)
 * is piped natively, and a JS stream that errors there reaches the Worker as a clean end instead,
 * which is not what a dropped connection looks like.
 */
async function upload(
	tenant: TestTenant,
	user: User,
	conversationId: string,
	body: ReadableStream<Uint8Array>,
	headers: Record<string, string> = {},
): Promise<Response> {
	const request = new Request(`http://${tenant.host}/v1/media?conversationId=${conversationId}`, {
		method: "POST",
		headers: {
			host: tenant.host,
			authorization: `Bearer ${user.token}`,
			"content-type": "text/plain",
			...headers,
		},
		body,
	});
	const ctx = createExecutionContext();
	const response = await app.fetch(request, env, ctx);
	await waitOnExecutionContext(ctx);
	return response;
}

const errors = vi.spyOn(console, "error");
afterEach(() => errors.mockClear());

function unhandledErrors(): string[] {
	return errors.mock.calls.map((args) => args.map(String).join(" ")).filter((line) => /unhandled/.test(line));
}

async function member() {
	const tenant = await createTenant({ mediaMaxBytes: 20 * 1024 * 1024 });
	const alice = await User.create(tenant, "alice");
	const group = await alice.createGroup([]);
	return { tenant, alice, group };
}

describe("an upload whose body fails midway", () => {
	it("is refused with 400 before its first bytes are checked, and nothing is stored", async () => {
		const { tenant, alice, group } = await member();
		await expectError(await upload(tenant, alice, group.id, cutShort([])), 400, "bad_request");
		expect(await storedKeys(tenant.id)).toEqual([]);
		expect(unhandledErrors()).toEqual([]);
	});

	it("is refused with 400 without a Content-Length, in a single put or a multipart upload", async () => {
		const { tenant, alice, group } = await member();
		const small = await upload(tenant, alice, group.id, cutShort([text(70_000), text(1000)]));
		const error = await expectError(small, 400, "bad_request");
		expect(error.message).toMatch(/cut short/);
		// Past one part: a part is stored, then the body fails; the multipart upload is aborted.
		const mib = text(1024 * 1024);
		const parts = Array.from({ length: PART_BYTES / mib.byteLength + 2 }, () => mib);
		await expectError(await upload(tenant, alice, group.id, cutShort(parts)), 400, "bad_request");
		expect(await storedKeys(tenant.id)).toEqual([]);
		expect(unhandledErrors()).toEqual([]);
	});

	it("is refused with 400 with a Content-Length, and the fixed-length put stores nothing", async () => {
		const { tenant, alice, group } = await member();
		const response = await upload(tenant, alice, group.id, cutShort([text(70_000), text(5000)]), {
			"content-length": "200000",
		});
		await expectError(response, 400, "bad_request");
		expect(await storedKeys(tenant.id)).toEqual([]);
		expect(unhandledErrors()).toEqual([]);
	});
});
