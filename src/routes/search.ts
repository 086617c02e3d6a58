/** Full-text search over the history mirrored to D1, limited to the caller's own conversations. */
import { requireUser } from "../auth/middleware";
import { searchMessages } from "../db/mirror";
import { SearchPage, SearchQuery } from "../protocol";
import { defineRoute, json, routeGroup, SECURITY } from "./openapi";

const searchRoute = defineRoute({
	method: "get",
	path: "/",
	tags: ["Messages"],
	security: SECURITY.user,
	summary: "Search messages",
	description:
		"Full-text search over the history mirrored to D1, in the caller's own conversations, newest first. The mirror trails the conversations by a little.",
	request: { query: SearchQuery },
	responses: {
		200: json(SearchPage, "Matching messages, newest first"),
	},
});

export const searchRoutes = routeGroup(requireUser).openapi(searchRoute, async (c) =>
	c.json(await searchMessages(c.env.DB, c.get("tenant").id, c.get("userId"), c.req.valid("query")), 200),
);
