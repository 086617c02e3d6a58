/**
 * fast-check, the same way in every property test: one seed for the run (the FC_SEED binding, from
 * the environment in vitest.config.ts, fixed by default so that CI replays the same cases), printed
 * with the counterexample when a property fails; a modest number of runs, so each file takes seconds.
 */
import { env } from "cloudflare:workers";
import fc from "fast-check";

export const FC_SEED = Number(env.FC_SEED);

function parameters<Ts>(numRuns: number): fc.Parameters<Ts> {
	return {
		seed: FC_SEED,
		numRuns,
		reporter: (details) => {
			if (details.failed)
				throw new Error(
					`property failed with FC_SEED=${FC_SEED} (replay: FC_SEED=${FC_SEED} npx vitest run <file>)\n${fc.defaultReportMessage(details)}`,
				);
		},
	};
}

export function check<Ts>(property: fc.IProperty<Ts>, numRuns = 300): void {
	fc.assert(property, parameters(numRuns));
}

export function checkAsync<Ts>(property: fc.IAsyncProperty<Ts>, numRuns = 50): Promise<void> {
	return fc.assert(property, parameters(numRuns));
}

export { fc };
