/**
 * `GET /asyncapi.json`: both sockets as AsyncAPI 3.0, every frame a message whose payload is its zod
 * schema in src/protocol.ts converted with `z.toJSONSchema` (client frames as the server reads them,
 * server frames as it writes them). Operations speak for the server: it `receive`s client frames and
 * `send`s server frames.
 */
import { z } from "zod";
import {
	ClientFrame,
	InboxClientFrame,
	InboxServerFrame,
	InboxSocketQuery,
	LIMITS,
	PROTOCOL_VERSION,
	ServerFrame,
	SocketQuery,
} from "../protocol";
import { SECURITY_SCHEMES } from "../routes/openapi";

type JsonSchema = Record<string, unknown>;
type FrameUnion = { options: readonly z.ZodObject[] };

const SCHEMAS = "#/components/schemas/";

/** A schema converted for the document: draft-07 (AsyncAPI's schema format), named schemas as refs. */
function convert(schema: z.ZodType, io: "input" | "output", defs: Record<string, JsonSchema>): JsonSchema {
	const {
		$schema: _,
		definitions,
		...root
	} = z.toJSONSchema(schema, { target: "draft-07", io }) as JsonSchema;
	for (const [id, def] of Object.entries((definitions ?? {}) as Record<string, JsonSchema>)) {
		const converted = rewriteRefs(def) as JsonSchema;
		if (defs[id] && JSON.stringify(defs[id]) !== JSON.stringify(converted)) {
			throw new Error(`Two schemas are named ${id}`);
		}
		defs[id] = converted;
	}
	return rewriteRefs(root) as JsonSchema;
}

function rewriteRefs(value: unknown): unknown {
	if (Array.isArray(value)) return value.map(rewriteRefs);
	if (typeof value !== "object" || value === null) return value;
	return Object.fromEntries(
		Object.entries(value).map(([key, inner]) => [
			key,
			key === "$ref" && typeof inner === "string"
				? inner.replace("#/definitions/", SCHEMAS)
				: rewriteRefs(inner),
		]),
	);
}

/** The id (`.meta({ id })`) of each frame schema of a union, with its `type` and description. */
export function framesOf(union: FrameUnion) {
	return union.options.map((option) => {
		const meta = option.meta() as { id?: string; description?: string } | undefined;
		if (!meta?.id) throw new Error("Every frame schema is named with .meta({ id })");
		const type = (option.shape.type as z.ZodLiteral<string>).value;
		return { id: meta.id, type, description: meta.description ?? "", schema: option };
	});
}

interface Socket {
	channel: string;
	address: string;
	title: string;
	description: string;
	query: z.ZodType;
	client: FrameUnion;
	server: FrameUnion;
	parameters?: Record<string, { description: string }>;
}

const SOCKETS: Socket[] = [
	{
		channel: "conversation",
		address: "/v1/conversations/{id}/ws",
		title: "The conversation socket",
		description: `One per open conversation, hibernatable. On connect: \`ready\`, then every message after \`after\` exactly once and in order (at most ${LIMITS.replayMessages}, then \`replay.truncated\`), then the live stream. Frames are JSON text of at most ${LIMITS.frameBytes} bytes; a bad frame gets an \`error\` frame and the socket stays open. Send \`{"type":"ping"}\` about every 30 s. Close codes are 4000 + the HTTP status of the error table.`,
		query: SocketQuery,
		client: ClientFrame,
		server: ServerFrame,
		parameters: { id: { description: "The conversation's id." } },
	},
	{
		channel: "inbox",
		address: "/v1/inbox/ws",
		title: "The inbox socket",
		description:
			"One per device; every device of the user gets every push. On connect: `ready`, then every unacked entry, then each new entry and every change of the user's conversation list.",
		query: InboxSocketQuery,
		client: InboxClientFrame,
		server: InboxServerFrame,
	},
];

export function asyncApiDocument() {
	const schemas: Record<string, JsonSchema> = {};
	const messages: Record<string, JsonSchema> = {};
	const channels: Record<string, JsonSchema> = {};
	const operations: Record<string, JsonSchema> = {};

	for (const socket of SOCKETS) {
		const channelMessages: Record<string, { $ref: string }> = {};
		const sides = [
			{ union: socket.client, io: "input", action: "receive", who: "client" },
			{ union: socket.server, io: "output", action: "send", who: "server" },
		] as const;
		for (const side of sides) {
			convert(side.union as unknown as z.ZodType, side.io, schemas);
			const frames = framesOf(side.union);
			for (const frame of frames) {
				messages[frame.id] = {
					name: frame.type,
					title: frame.id,
					summary: frame.description,
					contentType: "application/json",
					payload: { $ref: `${SCHEMAS}${frame.id}` },
				};
				channelMessages[frame.id] = { $ref: `#/components/messages/${frame.id}` };
			}
			operations[`${socket.channel}.${side.who}Frames`] = {
				action: side.action,
				channel: { $ref: `#/channels/${socket.channel}` },
				title: `${side.who === "client" ? "Client → server" : "Server → client"} frames`,
				messages: frames.map((frame) => ({ $ref: `#/channels/${socket.channel}/messages/${frame.id}` })),
			};
		}
		channels[socket.channel] = {
			address: socket.address,
			title: socket.title,
			description: socket.description,
			...(socket.parameters ? { parameters: socket.parameters } : {}),
			messages: channelMessages,
			bindings: {
				ws: { method: "GET", query: convert(socket.query, "input", schemas), bindingVersion: "0.1.0" },
			},
		};
	}

	return {
		asyncapi: "3.0.0",
		info: {
			title: "edgechat sockets",
			version: `v${PROTOCOL_VERSION}`,
			description:
				"The two WebSockets of edgechat. The HTTP API, which opens them, is in [`/openapi.json`](/openapi.json).",
		},
		defaultContentType: "application/json",
		servers: {
			tenant: {
				host: "{host}",
				protocol: "wss",
				description: "The tenant's own host: the tenant is resolved from it, as for HTTP.",
				variables: { host: { default: "127.0.0.1:8787", description: "A host bound to the tenant." } },
				security: [
					{ $ref: "#/components/securitySchemes/userToken" },
					{ $ref: "#/components/securitySchemes/userTokenQuery" },
				],
			},
		},
		channels,
		operations,
		components: {
			schemas,
			messages,
			securitySchemes: {
				userToken: SECURITY_SCHEMES.userToken,
				userTokenQuery: {
					type: "httpApiKey",
					name: "token",
					in: "query",
					description: "The user's token as `?token=`, for browsers, which cannot set headers on an upgrade.",
				},
			},
		},
	};
}
