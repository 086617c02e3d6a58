// End to end, as users see it: two Chromium pages run the edgechat client against `npm run dev`
// (wrangler dev with local D1, R2 and Durable Objects). They chat; then the server restarts, as a
// deploy does, while one side keeps sending and the other has a message queued; both pages end
// with every message exactly once and in order.
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { build } from "esbuild";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startDevServer, testPort } from "../scripts/dev-server.mjs";
import { launchChromium } from "./chromium.mjs";

const root = new URL("..", import.meta.url).pathname;
const port = testPort(0);
const base = `http://127.0.0.1:${port}`;
const persist = mkdtempSync(join(tmpdir(), "edgechat-e2e-"));

let server;
let browser;
let bundle;
/** Serves the page: a loopback origin of its own, as a tenant's app has (Chromium keeps opaque origins off loopback). */
let pageServer;
let pageUrl;

function devVar(name, fallback) {
	for (const file of [".dev.vars", ".dev.vars.example"]) {
		try {
			const line = readFileSync(join(root, file), "utf8")
				.split("\n")
				.find((l) => l.startsWith(`${name}=`));
			if (line) return line.slice(name.length + 1).trim();
		} catch {}
	}
	return fallback;
}

const startServer = () => startDevServer({ port, persist });
const stopServer = (dev) => dev?.stop({ keepState: true });

async function api(path, token, body) {
	const response = await fetch(`${base}${path}`, {
		method: body === undefined ? "GET" : "POST",
		headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
		body: body === undefined ? undefined : JSON.stringify(body),
	});
	const text = await response.text();
	if (!response.ok) throw new Error(`${path}: ${response.status} ${text}`);
	return JSON.parse(text);
}

async function openPage(token) {
	const context = await browser.newContext();
	const page = await context.newPage();
	await page.goto(pageUrl);
	await page.evaluate(
		({ baseUrl, token }) => {
			window.client = new Edgechat.EdgechatClient({
				baseUrl,
				token,
				backoff: { initialMs: 200, maxMs: 1000 },
			});
			window.received = [];
			window.states = [];
		},
		{ baseUrl: base, token },
	);
	return page;
}

async function received(page, count) {
	await page.waitForFunction((n) => window.received.length >= n, count, { timeout: 60_000 });
	return page.evaluate(() =>
		window.received.map((m) => ({ seq: m.seq, text: m.text, senderId: m.senderId })),
	);
}

beforeAll(async () => {
	const built = await build({
		entryPoints: [join(root, "client/index.ts")],
		bundle: true,
		format: "iife",
		globalName: "Edgechat",
		write: false,
		target: "es2022",
	});
	bundle = built.outputFiles[0].text;
	pageServer = createServer((_request, response) => {
		response.writeHead(200, { "content-type": "text/html; charset=utf-8" });
		response.end(`<!doctype html><title>edgechat e2e</title><script>${bundle}</script>`);
	});
	await new Promise((resolve) => pageServer.listen(0, "127.0.0.1", resolve));
	pageUrl = `http://127.0.0.1:${pageServer.address().port}/`;
	server = await startServer();
	browser = await launchChromium();
}, 180_000);

afterAll(async () => {
	await browser?.close();
	pageServer?.close();
	await stopServer(server);
	rmSync(persist, { recursive: true, force: true });
});

describe("two browsers chatting through a restart", () => {
	it("deliver every message exactly once and in order, before and after the server restarts", async () => {
		const apiKey = devVar("DEV_TENANT_API_KEY", "dev_tenant_key");
		const aliceToken = (await api("/v1/tokens", apiKey, { userId: "alice" })).token;
		const bobToken = (await api("/v1/tokens", apiKey, { userId: "bob" })).token;
		const alice = await openPage(aliceToken);
		const bob = await openPage(bobToken);

		const conversationId = await alice.evaluate(
			async () => (await window.client.createGroup(["bob"], "E2E")).id,
		);
		for (const page of [alice, bob]) {
			await page.evaluate((id) => {
				window.session = window.client.open(id, {
					onMessage: (m) => window.received.push(m),
					onState: (s) => window.states.push(s),
				});
			}, conversationId);
			await page.waitForFunction(() => window.states.includes("open"));
		}

		await alice.evaluate(() => window.session.send("hello bob"));
		expect(await received(bob, 1)).toEqual([{ seq: 1, text: "hello bob", senderId: "alice" }]);
		await bob.evaluate(() => window.session.send("hi alice"));
		expect((await received(alice, 2)).map((m) => m.text)).toEqual(["hello bob", "hi alice"]);

		// A restart, like a deploy: every socket drops.
		await stopServer(server);
		await bob.waitForFunction(() => window.states.at(-1) === "reconnecting", null, { timeout: 30_000 });
		// Bob queues a message while the server is away; the client keeps it until it is acked.
		await bob.evaluate(() => {
			window.queued = window.session.send("sent while offline");
		});
		server = await startServer();
		for (let i = 1; i <= 3; i++)
			await api(`/v1/conversations/${conversationId}/messages`, aliceToken, {
				clientId: `after-${i}`,
				text: `after restart ${i}`,
			});
		await bob.evaluate(() => window.queued);

		const expected = [
			"hello bob",
			"hi alice",
			"after restart 1",
			"after restart 2",
			"after restart 3",
			"sent while offline",
		];
		const seenByBob = await received(bob, 6);
		const seenByAlice = await received(alice, 6);
		for (const seen of [seenByBob, seenByAlice]) {
			expect(seen.map((m) => m.seq)).toEqual([1, 2, 3, 4, 5, 6]);
			expect([...seen.map((m) => m.text)].sort()).toEqual([...expected].sort());
		}
		expect(seenByAlice).toEqual(seenByBob);
		const history = await api(`/v1/conversations/${conversationId}/messages?after=0`, aliceToken);
		expect(history.messages.map((m) => m.text)).toEqual(seenByBob.map((m) => m.text));
		// Nothing arrives twice even after a while.
		await new Promise((resolve) => setTimeout(resolve, 500));
		expect(await bob.evaluate(() => window.received.length)).toBe(6);
	}, 240_000);
});
