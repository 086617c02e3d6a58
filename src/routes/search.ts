/** Full-text search over the history mirrored to D1, limited to the caller's own conversations. */
import { Hono } from "hono";
import { requireUser } from "../auth/middleware";
import type { AppEnv } from "../context";
import { searchMessages } from "../db/mirror";
import { SearchQuery } from "../protocol";
import { validate } from "../validate";

export const searchRoutes = new Hono<AppEnv>()
	.use(requireUser)
	.get("/", validate("query", SearchQuery), async (c) => {
		return c.json(await searchMessages(c.env.DB, c.get("tenant").id, c.get("userId"), c.req.valid("query")));
	});
