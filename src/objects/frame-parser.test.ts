import { describe, expect, it } from "vitest";
import { check, fc } from "../../test/property";
import { AppError } from "../errors";
import { ClientFrame, ClientId, InboxClientFrame, LIMITS } from "../protocol";
import { parseClientFrame, sendClientId, topLevelStrings } from "./frame-parser";

const encoder = new TextEncoder();
const bytes = (text: string) => encoder.encode(text).buffer as ArrayBuffer;

/** Any JSON value, now and then with a string of awkward characters or a lone surrogate. */
const json = fc.jsonValue({ maxDepth: 3 });
const clientId = fc
	.string({ unit: "grapheme", minLength: 1, maxLength: 64 })
	.filter((s) => ClientId.safeParse(s).success);

describe("parseClientFrame", () => {
	it("answers the frame the schema takes, or refuses with an AppError of the table, never anything else", () => {
		check(
			fc.property(
				fc.oneof(
					fc.string(),
					json.map((v) => JSON.stringify(v)),
					fc
						.record(
							{
								type: fc.constantFrom("ping", "message.send", "read.mark", "sync", "nope"),
								clientId: fc.oneof(clientId, json),
								text: json,
								seq: json,
								after: json,
							},
							{ requiredKeys: ["type"] },
						)
						.map((v) => JSON.stringify(v)),
				),
				fc.boolean(),
				(text, binary) => {
					for (const schema of [ClientFrame, InboxClientFrame]) {
						try {
							const frame = parseClientFrame(binary ? bytes(text) : text, schema);
							expect(schema.safeParse(frame).success).toBe(true);
						} catch (error) {
							expect(error).toBeInstanceOf(AppError);
							expect(["invalid_json", "unknown_frame", "bad_request", "frame_too_large"]).toContain(
								(error as AppError).code,
							);
						}
					}
				},
			),
			500,
		);
	});

	it("measures frames in bytes of UTF-8, text and binary alike", () => {
		const pad = (n: number, char: string) => `{"type":"ping","x":"${char.repeat(n)}"}`;
		const base = pad(0, "").length;
		for (const [char, width] of [
			["a", 1],
			["é", 2],
			["€", 3],
			["😀", 4],
		] as const) {
			const fits = pad(Math.floor((LIMITS.frameBytes - base) / width), char);
			const over = pad(Math.floor((LIMITS.frameBytes - base) / width) + 1, char);
			for (const data of [fits, bytes(fits)])
				expect(parseClientFrame(data, ClientFrame)).toEqual({ type: "ping" });
			for (const data of [over, bytes(over)])
				expect(() => parseClientFrame(data, ClientFrame)).toThrow(
					expect.objectContaining({ code: "frame_too_large" }),
				);
		}
	});
});

describe("sendClientId", () => {
	it("reads the clientId of a message.send whatever else the frame gets wrong, as JSON.parse would", () => {
		check(
			fc.property(
				clientId,
				fc.dictionary(
					fc.string({ maxLength: 8 }).filter((k) => k !== "type" && k !== "clientId"),
					json,
					{ maxKeys: 4 },
				),
				fc.boolean(),
				(id, rest, binary) => {
					const text = JSON.stringify({ ...rest, type: "message.send", clientId: id });
					expect(sendClientId(binary ? bytes(text) : text)).toBe(id);
				},
			),
			500,
		);
	});

	it("agrees with JSON.parse on the top-level type and clientId of any JSON text", () => {
		check(
			fc.property(
				fc.oneof(
					json.map((v) => JSON.stringify(v)),
					fc
						.record({
							type: fc.oneof(fc.constant("message.send"), json),
							clientId: fc.oneof(clientId, json),
							x: json,
						})
						.map((v) => JSON.stringify(v, null, 1)),
				),
				(text) => {
					const parsed = JSON.parse(text) as unknown;
					const object =
						typeof parsed === "object" && parsed !== null && !Array.isArray(parsed)
							? (parsed as Record<string, unknown>)
							: {};
					const read = topLevelStrings(text, ["type", "clientId"]);
					for (const key of ["type", "clientId"]) {
						const value = object[key];
						if (typeof value === "string" && JSON.stringify(value).length <= 64 * 12 + 2)
							expect(read[key]).toBe(value);
						else expect(read[key]).toBeUndefined();
					}
				},
			),
			500,
		);
	});

	it("reads it from a frame over the size limit, a binary frame, and a clientId of 64 emoji", () => {
		const emoji = "😀".repeat(64);
		const big = JSON.stringify({ type: "message.send", clientId: emoji, text: "€".repeat(40_000) });
		expect(encoder.encode(big).byteLength).toBeGreaterThan(LIMITS.frameBytes);
		expect(sendClientId(big)).toBe(emoji);
		expect(sendClientId(bytes(big))).toBe(emoji);
		// Keys a duplicate overrides, nested look-alikes and other frame types echo nothing.
		expect(sendClientId('{"type":"message.send","clientId":"a","clientId":1}')).toBeUndefined();
		expect(sendClientId('{"type":"message.send","x":{"clientId":"a"}}')).toBeUndefined();
		expect(sendClientId('{"type":"read.mark","clientId":"a"}')).toBeUndefined();
		// A clientId refused for a lone surrogate is still the client's: it gets it back.
		expect(sendClientId('{"type":"message.send","clientId":"\\ud800"}')).toBe("\ud800");
		expect(sendClientId(`{"type":"message.send","clientId":"${"x".repeat(65)}"}`)).toBeUndefined();
		// A frame broken after its clientId still tells which send it was.
		expect(sendClientId('{"type":"message.send","clientId":"c-1","text":')).toBe("c-1");
	});
});
