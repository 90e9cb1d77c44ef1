// publish_to_topic: a message to everyone subscribed to a topic. Subscribers are the engine's topic listeners;
// the realtime `/live` endpoint will be one when it lands. Topics are the tables (spec 50 section 1.5: publishing
// needs `create` on the table); user-created topics arrive with `/live`, so until then any other name is unknown.
import { forbidden, notFound, validation } from "../../errors.ts";
import { notify } from "../types.ts";
import { text, type Performer } from "./context.ts";

export const publishToTopic: Performer = {
  run({ who, attributes }, ctx) {
    const topic = text(attributes.topicName ?? attributes.topic).trim();
    if (!topic) throw validation("Validation failed", "missing or invalid topicName", { pointer: "/attributes/topicName" });
    const message = attributes.message;
    if (message === undefined || message === null) throw validation("Validation failed", "missing or invalid message", { pointer: "/attributes/message" });
    const table = ctx.registry().get(topic);
    if (!table) throw notFound("Topic not found", `topic not found: ${topic}`);
    if (!ctx.data.allowedOnTable(who, "create", table)) throw forbidden("Forbidden", `permission denied: ${topic}`);
    ctx.publish(topic, { message, from: who.userRef });
    return [notify("success", "Success", `Message published to ${topic}`), { ResponseType: "publish_to_topic", Attributes: { message: "published", topic } }];
  },
};
