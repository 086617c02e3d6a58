// Types of scripts/build-assets.mjs, for vitest.config.ts.
export declare const ASSETS_DIR: string;
export declare function buildAssets(options?: { quiet?: boolean }): void;
