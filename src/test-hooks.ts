/**
 * Test-only fault switches (an inbox or D1 that fails for a while) exist to prove the retry paths.
 * They are honoured only when the EDGECHAT_TEST_HOOKS binding is "1", which only vitest.config.ts
 * sets; a deployed Worker has no such binding, so the switches are inert there.
 */
export function testHooksEnabled(env: Env): boolean {
	return (env as { EDGECHAT_TEST_HOOKS?: string }).EDGECHAT_TEST_HOOKS === "1";
}
