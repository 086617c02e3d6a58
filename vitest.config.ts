import { cloudflareTest, readD1Migrations } from "@cloudflare/vitest-plugin";
import { defineConfig } from "vitest/config";
import { buildAssets } from "./scripts/build-assets.mjs";

// wrangler.jsonc's `assets` folder must exist before the Worker starts, also for `npx vitest run <dir>`.
buildAssets({ quiet: true });

export default defineConfig({
	plugins: [
		cloudflareTest(async () => ({
			wrangler: { configPath: "./wrangler.jsonc" },
			miniflare: {
				bindings: {
					PLATFORM_ADMIN_KEY: "test_admin_key",
					DEV_TENANT_API_KEY: "unused_in_tests",
					// Turns on the test-only fault switches of src/test-hooks.ts.
					EDGECHAT_TEST_HOOKS: "1",
					TEST_MIGRATIONS: await readD1Migrations("migrations/d1"),
					// The property tests' seed: fixed, so CI replays the same cases; FC_SEED=… tries others.
					FC_SEED: process.env.FC_SEED ?? "20261112",
				},
			},
		})),
	],
	test: {
		include: ["src/**/*.test.ts", "client/**/*.test.ts", "test/**/*.test.ts"],
		setupFiles: ["./test/setup.ts"],
		testTimeout: 20_000,
	},
});
