import { describe, expect, it } from "vitest";
import { call, createTenant, expectError, json, User } from "../../test/helpers";
import { png, storedKeys, stream, text, upload, uploaded } from "../../test/media";
import type { Media, Message } from "../protocol";
import { mediaKey } from "./keys";

async function groupOf(tenantSettings?: Record<string, unknown>) {
	const tenant = await createTenant(tenantSettings);
	const alice = await User.create(tenant, "alice");
	const bob = await User.create(tenant, "bob");
	const carol = await User.create(tenant, "carol");
	const group = await alice.createGroup(["bob"]);
	return { tenant, alice, bob, carol, group };
}

async function bytesOf(response: Response): Promise<Uint8Array> {
	return new Uint8Array(await response.arrayBuffer());
}

describe("uploading and downloading media", () => {
	it("stores an upload in R2 under the tenant and gives back the same bytes, with image dimensions", async () => {
		const { tenant, alice, bob, group } = await groupOf();
		const image = png(640, 480, 5000);
		const media = await uploaded(alice, group.id, image, "image/png");
		expect(media).toEqual({
			id: expect.stringMatching(/^md_/),
			contentType: "image/png",
			size: image.byteLength,
			width: 640,
			height: 480,
		});
		expect(await storedKeys(tenant.id)).toEqual([mediaKey(tenant.id, media.id)]);

		const response = await bob.call(`/v1/media/${media.id}`);
		expect(response.status).toBe(200);
		expect(response.headers.get("content-type")).toBe("image/png");
		expect(response.headers.get("content-length")).toBe(String(image.byteLength));
		expect(response.headers.get("cache-control")).toMatch(/^private\b/);
		expect(response.headers.get("etag")).toMatch(/^"/);
		expect(response.headers.get("accept-ranges")).toBe("bytes");
		expect(await bytesOf(response)).toEqual(image);
	});

	it("streams a body of unknown length, in several R2 parts when it is large", async () => {
		const { alice, group } = await groupOf();
		const chunk = text(1024 * 1024);
		const chunks = Array.from({ length: 6 }, () => chunk);
		const media = await uploaded(alice, group.id, stream(chunks) as unknown as Uint8Array, "text/plain");
		expect(media.size).toBe(6 * 1024 * 1024);
		const body = await bytesOf(await alice.call(`/v1/media/${media.id}`));
		expect(body.byteLength).toBe(6 * 1024 * 1024);
		expect(body.subarray(5 * 1024 * 1024, 5 * 1024 * 1024 + 26)).toEqual(text(26));
	});

	it("answers 304 to a matching If-None-Match", async () => {
		const { alice, group } = await groupOf();
		const media = await uploaded(alice, group.id, text(100), "text/plain; charset=utf-8");
		expect(media.contentType).toBe("text/plain");
		const etag = (await alice.call(`/v1/media/${media.id}`)).headers.get("etag") ?? "";
		const response = await alice.call(`/v1/media/${media.id}`, { headers: { "if-none-match": etag } });
		expect(response.status).toBe(304);
		expect(response.headers.get("etag")).toBe(etag);
	});
});

describe("ranges", () => {
	it("answers 206 with Content-Range for a range, an open-ended range and a suffix", async () => {
		const { alice, group } = await groupOf();
		const body = text(1000);
		const media = await uploaded(alice, group.id, body, "text/plain");
		const get = (range: string) => alice.call(`/v1/media/${media.id}`, { headers: { range } });

		let response = await get("bytes=10-19");
		expect(response.status).toBe(206);
		expect(response.headers.get("content-range")).toBe("bytes 10-19/1000");
		expect(response.headers.get("content-length")).toBe("10");
		expect(await bytesOf(response)).toEqual(body.subarray(10, 20));

		response = await get("bytes=990-");
		expect(response.status).toBe(206);
		expect(response.headers.get("content-range")).toBe("bytes 990-999/1000");
		expect(await bytesOf(response)).toEqual(body.subarray(990));

		response = await get("bytes=-5");
		expect(response.status).toBe(206);
		expect(response.headers.get("content-range")).toBe("bytes 995-999/1000");
		expect(await bytesOf(response)).toEqual(body.subarray(995));

		// An end beyond the object is clipped to it.
		response = await get("bytes=998-5000");
		expect(response.headers.get("content-range")).toBe("bytes 998-999/1000");
		expect(await bytesOf(response)).toEqual(body.subarray(998));
	});

	it("answers 416 with the size for a range that starts beyond the object", async () => {
		const { alice, group } = await groupOf();
		const media = await uploaded(alice, group.id, text(1000), "text/plain");
		const response = await alice.call(`/v1/media/${media.id}`, { headers: { range: "bytes=1000-" } });
		expect(response.headers.get("content-range")).toBe("bytes */1000");
		await expectError(response, 416, "range_not_satisfiable");
	});
});

describe("the size cap", () => {
	it("refuses with 413 from Content-Length alone, before reading the body", async () => {
		const { tenant, alice, group } = await groupOf();
		// A body that never ends: had the Worker waited for it, this test would time out.
		const endless = new ReadableStream<Uint8Array>({ pull() {} });
		const response = await upload(alice, group.id, endless as unknown as Uint8Array, "text/plain", {
			"content-length": String(25 * 1024 * 1024 + 1),
		});
		await expectError(response, 413, "payload_too_large");
		expect(await storedKeys(tenant.id)).toEqual([]);
	});

	it("takes the cap from the tenant's settings", async () => {
		const { tenant, alice, group } = await groupOf({ mediaMaxBytes: 1000 });
		await expectError(await upload(alice, group.id, text(1001), "text/plain"), 413, "payload_too_large");
		expect((await uploaded(alice, group.id, text(1000), "text/plain")).size).toBe(1000);
		expect(await storedKeys(tenant.id)).toHaveLength(1);
	});

	it("refuses with 413 while streaming a body without Content-Length, and keeps nothing", async () => {
		const { tenant, alice, group } = await groupOf({ mediaMaxBytes: 1000 });
		const response = await upload(
			alice,
			group.id,
			stream([text(600), text(600)]) as unknown as Uint8Array,
			"text/plain",
		);
		await expectError(response, 413, "payload_too_large");
		expect(await storedKeys(tenant.id)).toEqual([]);
	});

	it("aborts a multipart upload that crosses the cap after whole parts were stored", async () => {
		const { tenant, alice, group } = await groupOf({ mediaMaxBytes: 6 * 1024 * 1024 });
		const chunk = text(1024 * 1024);
		const response = await upload(
			alice,
			group.id,
			stream(Array.from({ length: 7 }, () => chunk)) as unknown as Uint8Array,
			"text/plain",
		);
		await expectError(response, 413, "payload_too_large");
		expect(await storedKeys(tenant.id)).toEqual([]);
	});

	it("refuses with 413 a body longer than its Content-Length claimed, and keeps nothing", async () => {
		const { tenant, alice, group } = await groupOf({ mediaMaxBytes: 1200 });
		// The header says 500, under the cap; the body then sends 1500.
		const response = await upload(
			alice,
			group.id,
			stream([text(500), text(500), text(500)]) as unknown as Uint8Array,
			"text/plain",
			{ "content-length": "500" },
		);
		await expectError(response, 413, "payload_too_large");
		expect(await storedKeys(tenant.id)).toEqual([]);
	});
});

describe("a body shorter than its Content-Length", () => {
	it("is refused with 400 and nothing is stored", async () => {
		const { tenant, alice, group } = await groupOf();
		const response = await upload(
			alice,
			group.id,
			stream([text(300)]) as unknown as Uint8Array,
			"text/plain",
			{
				"content-length": "100000",
			},
		);
		await expectError(response, 400, "bad_request");
		expect(await storedKeys(tenant.id)).toEqual([]);
	});
});

describe("the type allowlist", () => {
	it("refuses with 415 a type that is not allowed, or none, before reading the body", async () => {
		const { tenant, alice, group } = await groupOf();
		await expectError(
			await upload(alice, group.id, text(10), "application/x-msdownload"),
			415,
			"unsupported_media_type",
		);
		await expectError(await upload(alice, group.id, text(10), "text/html"), 415, "unsupported_media_type");
		await expectError(await upload(alice, group.id, text(10), null), 415, "unsupported_media_type");
		expect(await storedKeys(tenant.id)).toEqual([]);
	});

	it("refuses with 415 bytes that are not what the header says, and keeps nothing", async () => {
		const { tenant, alice, group } = await groupOf();
		const executable = new Uint8Array([0x4d, 0x5a, 0x90, 0, 3, 0, 0, 0, 4, 0, 0, 0, 0xff, 0xff]);
		await expectError(await upload(alice, group.id, executable, "image/png"), 415, "unsupported_media_type");
		await expectError(await upload(alice, group.id, png(1, 1), "image/jpeg"), 415, "unsupported_media_type");
		await expectError(await upload(alice, group.id, executable, "text/plain"), 415, "unsupported_media_type");
		expect(await storedKeys(tenant.id)).toEqual([]);
	});

	it("accepts each family of the allowlist by its first bytes", async () => {
		const { alice, group } = await groupOf();
		const ascii = (s: string) => new TextEncoder().encode(s);
		const samples: [string, Uint8Array][] = [
			[
				"image/jpeg",
				new Uint8Array([0xff, 0xd8, 0xff, 0xe0, 0, 16, 0x4a, 0x46, 0x49, 0x46, 0, 1, 1, 0, 0, 1]),
			],
			["image/gif", ascii("GIF89a\x02\x00\x03\x00\x00\x00\x00")],
			["video/mp4", ascii("\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00")],
			["audio/mpeg", ascii("ID3\x03\x00\x00\x00\x00\x00\x00")],
			["audio/ogg", ascii("OggS\x00\x02\x00\x00")],
			["application/pdf", ascii("%PDF-1.7\n%\n")],
		];
		for (const [type, body] of samples) {
			const media = await uploaded(alice, group.id, body, type);
			expect(media.contentType).toBe(type);
		}
		expect(
			await uploaded(alice, group.id, ascii("GIF89a\x02\x00\x03\x00\x00\x00\x00"), "image/gif"),
		).toMatchObject({
			width: 2,
			height: 3,
		});
	});

	it("refuses an empty upload", async () => {
		const { alice, group } = await groupOf();
		await expectError(await upload(alice, group.id, new Uint8Array(0), "text/plain"), 400, "bad_request");
	});
});

describe("who may upload and download", () => {
	it("answers 401 without a token", async () => {
		const { tenant, alice, group } = await groupOf();
		const media = await uploaded(alice, group.id, text(10), "text/plain");
		await expectError(
			await call(tenant.host, `/v1/media?conversationId=${group.id}`, {
				rawBody: text(10),
				headers: { "content-type": "text/plain" },
			}),
			401,
			"unauthorized",
		);
		await expectError(await call(tenant.host, `/v1/media/${media.id}`), 401, "unauthorized");
	});

	it("refuses an upload to a conversation the user is not in", async () => {
		const { tenant, carol, group } = await groupOf();
		await expectError(await upload(carol, group.id, text(10), "text/plain"), 404, "conversation_not_found");
		await expectError(await upload(carol, "g_nope", text(10), "text/plain"), 404, "conversation_not_found");
		expect(await storedKeys(tenant.id)).toEqual([]);
	});

	it("answers 403 to a user of the tenant who is not a member, and 404 to an unknown id", async () => {
		const { alice, carol, group } = await groupOf();
		const media = await uploaded(alice, group.id, text(10), "text/plain");
		await expectError(await carol.call(`/v1/media/${media.id}`), 403, "forbidden");
		await expectError(await carol.call("/v1/media/md_unknown"), 404, "not_found");
	});

	it("stops serving a member once removed", async () => {
		const { alice, bob, group } = await groupOf();
		const media = await uploaded(alice, group.id, text(10), "text/plain");
		expect((await bob.call(`/v1/media/${media.id}`)).status).toBe(200);
		expect((await alice.call(`/v1/conversations/${group.id}/members/bob`, { method: "DELETE" })).status).toBe(
			204,
		);
		await expectError(await bob.call(`/v1/media/${media.id}`), 403, "forbidden");
	});

	it("never serves one tenant's media to another tenant, even to a user with the same id", async () => {
		const { alice, group } = await groupOf();
		const media = await uploaded(alice, group.id, text(10), "text/plain");
		const other = await createTenant();
		const otherAlice = await User.create(other, "alice");
		await expectError(await otherAlice.call(`/v1/media/${media.id}`), 404, "not_found");
	});
});

describe("attachments", () => {
	async function send(user: User, conversationId: string, attachments: string[], text?: string) {
		return user.call(`/v1/conversations/${conversationId}/messages`, {
			body: { clientId: crypto.randomUUID(), attachments, ...(text ? { text } : {}) },
		});
	}

	it("carries id, type, size and url of media the sender uploaded to the conversation", async () => {
		const { alice, bob, group } = await groupOf();
		const image = await uploaded(alice, group.id, png(4, 2), "image/png");
		const doc = await uploaded(alice, group.id, text(77), "text/plain");
		const { message } = await json<{ message: Message }>(
			await send(alice, group.id, [image.id, doc.id]),
			201,
		);
		expect(message.attachments).toEqual([
			{
				id: image.id,
				contentType: "image/png",
				size: image.size,
				url: `/v1/media/${image.id}`,
				width: 4,
				height: 2,
			},
			{ id: doc.id, contentType: "text/plain", size: 77, url: `/v1/media/${doc.id}` },
		]);
		const history = await bob.history(group.id);
		expect(history.messages.at(-1)?.attachments).toEqual(message.attachments);
		// The url works for another member.
		expect((await bob.call(message.attachments[1]?.url ?? "")).status).toBe(200);
	});

	it("refuses media uploaded by someone else, to another conversation, of another tenant, or unknown", async () => {
		const { tenant, alice, bob, group } = await groupOf();
		const bobs: Media = await uploaded(bob, group.id, text(5), "text/plain");
		const otherGroup = await alice.createGroup(["bob"]);
		const elsewhere = await uploaded(alice, otherGroup.id, text(5), "text/plain");
		const other = await createTenant();
		const otherAlice = await User.create(other, "alice");
		const otherGroupOfOtherTenant = await otherAlice.createGroup(["bob"]);
		const foreign = await uploaded(otherAlice, otherGroupOfOtherTenant.id, text(5), "text/plain");

		for (const id of [bobs.id, elsewhere.id, foreign.id, "md_unknown"]) {
			await expectError(await send(alice, group.id, [id], "look"), 400, "invalid_attachment");
		}
		const mine = await uploaded(alice, group.id, text(5), "text/plain");
		await expectError(await send(alice, group.id, [mine.id, mine.id]), 400, "invalid_attachment");
		// Nothing was stored by the refusals.
		expect((await alice.history(group.id)).messages).toEqual([]);
		expect(tenant.id).not.toBe(other.id);
	});

	it("checks attachments on the socket path too", async () => {
		const { alice, bob, group } = await groupOf();
		const bobs = await uploaded(bob, group.id, text(5), "text/plain");
		const mine = await uploaded(alice, group.id, text(5), "text/plain");
		const ws = await alice.connect(group.id);
		await ws.next("ready");
		ws.send({ type: "message.send", clientId: "c1", attachments: [bobs.id] });
		expect(await ws.next("error")).toMatchObject({ code: "invalid_attachment", clientId: "c1" });
		ws.send({ type: "message.send", clientId: "c2", attachments: [mine.id] });
		const created = (await ws.next<{ type: string; message: Message }>("message.created")).message;
		expect(created.attachments.map((a) => a.id)).toEqual([mine.id]);
		ws.close();
	});
});

describe("clean-up of unattached media", () => {
	async function collect(tenant: { host: string; apiKey: string }, conversationId: string, body: unknown) {
		return call(tenant.host, `/v1/admin/conversations/${conversationId}/media/collect`, {
			token: tenant.apiKey,
			body,
		});
	}

	it("deletes media no message references, bytes and records, and keeps attached media", async () => {
		const { tenant, alice, bob, group } = await groupOf();
		const attached = await uploaded(alice, group.id, text(10), "text/plain");
		const abandoned = await uploaded(alice, group.id, text(11), "text/plain");
		const bobs = await uploaded(bob, group.id, png(1, 1), "image/png");
		await json(
			await alice.call(`/v1/conversations/${group.id}/messages`, {
				body: { clientId: "with-media", attachments: [attached.id] },
			}),
			201,
		);

		const result = await json<{ deleted: string[]; more: boolean }>(
			await collect(tenant, group.id, { olderThanSeconds: 0 }),
			200,
		);
		expect(result).toEqual({ deleted: [abandoned.id, bobs.id], more: false });
		expect(await storedKeys(tenant.id)).toEqual([mediaKey(tenant.id, attached.id)]);
		await expectError(await alice.call(`/v1/media/${abandoned.id}`), 404, "not_found");
		expect((await bob.call(`/v1/media/${attached.id}`)).status).toBe(200);
		await expectError(
			await alice.call(`/v1/conversations/${group.id}/messages`, {
				body: { clientId: "too-late", attachments: [abandoned.id] },
			}),
			400,
			"invalid_attachment",
		);
		// Nothing left to collect: a second run is a no-op.
		expect(await json(await collect(tenant, group.id, { olderThanSeconds: 0 }), 200)).toEqual({
			deleted: [],
			more: false,
		});
	});

	it("keeps unattached media younger than the grace period, 7 days by default", async () => {
		const { tenant, alice, group } = await groupOf();
		const fresh = await uploaded(alice, group.id, text(10), "text/plain");
		expect(await json(await collect(tenant, group.id, {}), 200)).toEqual({ deleted: [], more: false });
		expect(await storedKeys(tenant.id)).toEqual([mediaKey(tenant.id, fresh.id)]);
	});

	it("is for the tenant's backend only", async () => {
		const { tenant, alice, group } = await groupOf();
		await expectError(
			await alice.call(`/v1/admin/conversations/${group.id}/media/collect`, { body: {} }),
			401,
			"unauthorized",
		);
		await expectError(await collect(tenant, "g_unknown", {}), 404, "conversation_not_found");
		await expectError(await collect(tenant, group.id, { olderThanSeconds: -1 }), 400, "bad_request");
	});
});
