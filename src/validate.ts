/** `validate(target, Schema)`: @hono/zod-validator that throws our `bad_request` with a readable reason. */
import { zValidator } from "@hono/zod-validator";
import type { ValidationTargets } from "hono";
import type { z } from "zod";
import { AppError } from "./errors";

export function describeIssues(error: {
	issues: readonly { path: PropertyKey[]; message: string }[];
}): string {
	return error.issues
		.slice(0, 3)
		.map((issue) =>
			issue.path.length > 0 ? `${issue.path.map(String).join(".")}: ${issue.message}` : issue.message,
		)
		.join("; ");
}

export function validate<T extends z.ZodType, Target extends keyof ValidationTargets>(
	target: Target,
	schema: T,
) {
	return zValidator(target, schema, (result) => {
		if (!result.success) throw new AppError("bad_request", describeIssues(result.error));
	});
}
