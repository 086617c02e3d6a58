// The API's documents as `npm run dev` serves them: /openapi.json and /asyncapi.json checked by the
// real validators (@readme/openapi-parser, @asyncapi/parser, which run in Node, not in workerd),
// and /docs opened in Chromium: every operation listed, every request to the dev server's own
// origin (no CDN, no font, no telemetry), a screenshot in test-results/e2e/docs.png.
import { mkdirSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import { DiagnosticSeverity, Parser } from "@asyncapi/parser";
import { validate } from "@readme/openapi-parser";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startDevServer, testPort } from "../scripts/dev-server.mjs";
import { launchChromium } from "./chromium.mjs";

const root = new URL("..", import.meta.url).pathname;
const port = testPort(1);
const base = `http://127.0.0.1:${port}`;
const outputDir = join(root, "test-results", "e2e");

let server;
let browser;

async function fetchJson(path) {
	const response = await fetch(`${base}${path}`);
	expect(response.status, path).toBe(200);
	return response.json();
}

beforeAll(async () => {
	server = await startDevServer({ port });
	browser = await launchChromium();
}, 180_000);

afterAll(async () => {
	await browser?.close();
	await server?.stop();
});

describe("the API's documents, checked by their validators", () => {
	it("GET /openapi.json is valid OpenAPI 3.1, without a warning", async () => {
		const document = await fetchJson("/openapi.json");
		expect(document.openapi).toBe("3.1.0");
		const result = await validate(structuredClone(document));
		expect(result.errors ?? []).toEqual([]);
		expect(result.warnings).toEqual([]);
		expect(result.valid).toBe(true);
	});

	it("GET /asyncapi.json is valid AsyncAPI 3.0, without an error or a warning", async () => {
		const text = await (await fetch(`${base}/asyncapi.json`)).text();
		const { document, diagnostics } = await new Parser().parse(text);
		const problems = diagnostics
			.filter((d) => d.severity === DiagnosticSeverity.Error || d.severity === DiagnosticSeverity.Warning)
			.map((d) => `${d.code}: ${d.message} at ${d.path.join(".")}`);
		expect(problems).toEqual([]);
		expect(document?.version()).toBe("3.0.0");
		expect(
			document
				?.channels()
				.all()
				.map((channel) => channel.address()),
		).toEqual(["/v1/conversations/{id}/ws", "/v1/inbox/ws"]);
	});
});

describe("GET /docs in Chromium", () => {
	it("lists every operation, and loads everything from the dev server alone", async () => {
		const document = await fetchJson("/openapi.json");
		const summaries = Object.values(document.paths).flatMap((item) =>
			Object.values(item).map((operation) => operation.summary),
		);
		expect(summaries.length).toBeGreaterThan(25);

		const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
		const requests = [];
		const refused = [];
		const errors = [];
		page.on("request", (request) => requests.push(request.url()));
		// A request the page's CSP blocked never becomes a request event: the console says so instead.
		page.on("console", (message) => {
			if (/Content Security Policy|Refused to/i.test(message.text())) refused.push(message.text());
		});
		page.on("pageerror", (error) => errors.push(error.message));

		const response = await page.goto(`${base}/docs`);
		expect(response?.status()).toBe(200);
		for (const summary of summaries) {
			await page.getByText(summary, { exact: true }).first().waitFor({ state: "visible", timeout: 30_000 });
		}
		mkdirSync(outputDir, { recursive: true });
		await page.screenshot({ path: join(outputDir, "docs.png") });

		expect(requests).toContain(`${base}/docs/scalar.js`);
		expect(requests).toContain(`${base}/openapi.json`);
		expect(requests.filter((url) => !url.startsWith(`${base}/`) && !url.startsWith("data:"))).toEqual([]);
		expect(refused).toEqual([]);
		expect(errors).toEqual([]);
		await page.close();
	}, 120_000);

	it("serves the Scalar bundle of node_modules as a static asset", async () => {
		const served = Buffer.from(await (await fetch(`${base}/docs/scalar.js`)).arrayBuffer());
		const require = createRequire(join(root, "package.json"));
		const bundled = readFileSync(require.resolve("@scalar/api-reference/browser/standalone.js"));
		expect(served.equals(bundled)).toBe(true);
	});
});
