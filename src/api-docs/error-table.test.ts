import { describe, expect, it } from "vitest";
import apiDoc from "../../docs/api.md?raw";
import { ERRORS } from "../protocol";

/** The rows of the error table of docs/api.md: each code of the first column, with its HTTP status and close code. */
function documentedErrors(markdown: string): Record<string, { status: number; close: number }> {
	const section = markdown.split(/^## /m).find((part) => part.startsWith("Errors\n"));
	if (!section) throw new Error("docs/api.md has no ## Errors section");
	const rows: Record<string, { status: number; close: number }> = {};
	for (const line of section.split("\n")) {
		const cells = line.split("|").map((cell) => cell.trim());
		const status = Number(cells[2]);
		const close = Number(cells[3]);
		if (!Number.isInteger(status) || !Number.isInteger(close) || cells[2] === "") continue;
		for (const [, code] of (cells[1] ?? "").matchAll(/`([a-z_]+)`/g)) {
			if (code === undefined) continue;
			expect(rows[code], `${code} is listed twice`).toBeUndefined();
			rows[code] = { status, close };
		}
	}
	return rows;
}

describe("the error table of docs/api.md", () => {
	it("lists exactly the codes of ERRORS, each with its HTTP status and close code", () => {
		const expected = Object.fromEntries(
			Object.entries(ERRORS).map(([code, { status, close }]) => [code, { status, close }]),
		);
		expect(documentedErrors(apiDoc)).toEqual(expected);
	});
});
