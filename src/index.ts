import { app } from "./app";

export { Conversation } from "./objects/conversation/conversation";

export default { fetch: app.fetch } satisfies ExportedHandler<Env>;
