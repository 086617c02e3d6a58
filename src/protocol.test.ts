import { describe, expect, it } from "vitest";
import { z } from "zod";
import { check, fc } from "../test/property";
import * as protocol from "./protocol";
import {
	ClientFrame,
	ClientId,
	EchoedClientId,
	queryInteger,
	SendMessageBody,
	Str,
	wellFormed,
} from "./protocol";

/** Every string schema reachable from `schema`, with the path that reaches it. */
function stringsOf(schema: z.ZodType, path: string, out: [string, z.ZodType][], seen = new Set<unknown>()) {
	if (seen.has(schema)) return out;
	seen.add(schema);
	const def = (schema as unknown as { _zod: { def: Record<string, unknown> & { type: string } } })._zod.def;
	const walk = (child: unknown, step: string) => {
		if (child instanceof z.ZodType) stringsOf(child, `${path}${step}`, out, seen);
	};
	switch (def.type) {
		case "string":
			out.push([path, schema]);
			break;
		case "object":
			for (const [key, child] of Object.entries(def.shape as Record<string, unknown>)) walk(child, `.${key}`);
			walk(def.catchall, ".*");
			break;
		case "array":
			walk(def.element, "[]");
			break;
		case "tuple":
			for (const [i, child] of (def.items as unknown[]).entries()) walk(child, `[${i}]`);
			walk(def.rest, "[…]");
			break;
		case "union":
			for (const [i, child] of (def.options as unknown[]).entries()) walk(child, `|${i}`);
			break;
		case "record":
			walk(def.keyType, "{key}");
			walk(def.valueType, "{value}");
			break;
		case "pipe":
			walk(def.in, "<in>");
			walk(def.out, "<out>");
			break;
		default:
			walk(def.innerType, "");
	}
	return out;
}

const schemas = Object.entries(protocol as Record<string, unknown>).filter(
	(entry): entry is [string, z.ZodType] => entry[1] instanceof z.ZodType,
);

describe("strings of the protocol", () => {
	it("are all well-formed Unicode: every string schema of every wire shape carries the one check", () => {
		const strings = [
			...schemas.flatMap(([name, schema]) => stringsOf(schema, name, [])),
			...stringsOf(queryInteger(0, 1), "queryInteger", []),
		];
		expect(strings.length).toBeGreaterThan(50);
		const unchecked = strings
			// The one exception, by design: an error frame echoes the client's clientId as it came.
			.filter(([, schema]) => schema !== EchoedClientId)
			.filter(([, schema]) => !(schema._zod.def as { checks?: unknown[] }).checks?.includes(wellFormed))
			.map(([path]) => path);
		expect(unchecked).toEqual([]);
	});

	it("refuses a lone surrogate anywhere in a string, and takes every well-formed string", () => {
		check(
			fc.property(fc.string({ unit: "grapheme" }), fc.string({ unit: "grapheme" }), (before, after) => {
				expect(Str.safeParse(`${before}${after}`).success).toBe(true);
				for (const lone of ["\ud800", "\udfff", "\ud83d", "\ude00"])
					expect(Str.safeParse(`${before}${lone}${after}`).success).toBe(false);
			}),
		);
		check(
			fc.property(fc.string({ unit: "binary" }), (value) => {
				expect(Str.safeParse(value).success).toBe(value.isWellFormed());
			}),
		);
	});

	it("refuses a message body or frame with a lone surrogate in any field", () => {
		for (const text of ["hello \ud800", "\udc00", "a\ud83d"]) {
			expect(SendMessageBody.safeParse({ clientId: "x1", text }).success).toBe(false);
			expect(SendMessageBody.safeParse({ clientId: text, text: "hi" }).success).toBe(false);
			expect(ClientFrame.safeParse({ type: "message.send", clientId: text, text: "hi" }).success).toBe(false);
		}
	});

	it("count lengths in characters (code points): a clientId is 1-64 of them, whatever their UTF-16 size", () => {
		check(
			fc.property(fc.array(fc.constantFrom("a", "é", "字", "😀", "👩‍👩‍👧"), { maxLength: 80 }), (parts) => {
				const clientId = parts.join("");
				expect(ClientId.safeParse(clientId).success).toBe(
					[...clientId].length >= 1 && [...clientId].length <= 64,
				);
			}),
		);
	});
});

describe("numbers in query strings", () => {
	const limit = queryInteger(1, 200);

	it("are decimal integers in range, digits only", () => {
		check(
			fc.property(fc.integer({ min: -1000, max: 1000 }), (n) => {
				const parsed = limit.safeParse(String(n));
				expect(parsed.success).toBe(n >= 1 && n <= 200);
				if (parsed.success) expect(parsed.data).toBe(n);
			}),
		);
		const seq = queryInteger(0, Number.MAX_SAFE_INTEGER);
		check(
			fc.property(fc.maxSafeNat(), (n) => {
				expect(seq.parse(String(n))).toBe(n);
			}),
		);
		expect(seq.safeParse("9007199254740992").success).toBe(false);
		expect(seq.safeParse("99999999999999999999").success).toBe(false);
	});

	it("refuse every other spelling that Number() or z.coerce would take", () => {
		for (const lax of [
			"",
			" ",
			" 5",
			"5 ",
			"\t5",
			"+1",
			"-0",
			"-1",
			"0x10",
			"0X1",
			"0b1",
			"0o7",
			"1e1",
			"1E2",
			"1.0",
			"1.",
			".5",
			"Infinity",
			"NaN",
			"1_0",
			"٣",
			"１",
			"05",
			"00",
		])
			expect(limit.safeParse(lax).success, JSON.stringify(lax)).toBe(false);
		check(
			fc.property(fc.string(), (text) => {
				const parsed = limit.safeParse(text);
				expect(parsed.success).toBe(
					/^(0|[1-9][0-9]*)$/.test(text) && Number(text) >= 1 && Number(text) <= 200,
				);
			}),
		);
	});
});
