import { app } from "./app";

export { Conversation } from "./objects/conversation/conversation";
export { Inbox } from "./objects/inbox/inbox";

export default { fetch: app.fetch } satisfies ExportedHandler<Env>;
