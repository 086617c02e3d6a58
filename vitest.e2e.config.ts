import { defineConfig } from "vitest/config";

// Browser tests run in Node against `npm run dev` and Chromium (apt-get install chromium).
export default defineConfig({
	test: {
		include: ["e2e/**/*.test.mjs"],
		testTimeout: 240_000,
		hookTimeout: 180_000,
		fileParallelism: false,
	},
});
