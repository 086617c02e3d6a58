// The Worker's static assets (wrangler.jsonc `assets`), built into dist/assets/, which git ignores:
// every file there comes from a step below, so a fresh clone builds them with `npm install` alone.
// `npm run dev` (scripts/dev.mjs), `npm test` (pretest), vitest.config.ts and `npm run deploy`
// (predeploy) run it; `node scripts/build-assets.mjs` runs it by hand.
//
// A step is a name and a function that answers the files it makes, `{ path: contents }`, paths
// relative to the assets folder. Paths are served as they are, before the Worker: keep `/` free for
// the demo app, and every other path clear of the Worker's routes (/v1, /platform, /docs, …).
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
export const ASSETS_DIR = join(root, "dist", "assets");
const require = createRequire(join(root, "package.json"));

const STEPS = [
	{
		// GET /docs (src/api-docs/page.ts) loads it: Scalar's standalone browser bundle, with no CDN.
		name: "Scalar API reference",
		files: () => ({
			"docs/scalar.js": readFileSync(require.resolve("@scalar/api-reference/browser/standalone.js")),
		}),
	},
];

/** Writes every step's files; a file whose contents did not change is left alone (wrangler dev watches them). */
export function buildAssets({ quiet = false } = {}) {
	let written = 0;
	for (const step of STEPS) {
		for (const [path, contents] of Object.entries(step.files())) {
			const target = join(ASSETS_DIR, path);
			if (existsSync(target) && readFileSync(target).equals(Buffer.from(contents))) continue;
			mkdirSync(dirname(target), { recursive: true });
			writeFileSync(target, contents);
			written++;
		}
	}
	if (!quiet) console.log(`assets in dist/assets: ${written} file(s) written, ${STEPS.length} step(s)`);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) buildAssets();
