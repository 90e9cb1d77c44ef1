// publish_to_topic: a message to everyone subscribed to a topic. Subscribers are the engine's topic listeners;
// the realtime `/live` endpoint will be one when it lands.
import { validation } from "../../errors.ts";
import { notify } from "../types.ts";
import { text, type Performer } from "./context.ts";

export const publishToTopic: Performer = {
  run({ who, attributes }, ctx) {
    const topic = text(attributes.topicName ?? attributes.topic).trim();
    if (!topic) throw validation("Validation failed", "topicName is required", { pointer: "/attributes/topicName" });
    const message = attributes.message ?? null;
    ctx.publish(topic, { message, from: who.userRef });
    return [notify("success", "Success", `Message published to ${topic}`), { ResponseType: "publish_to_topic", Attributes: { message: "published", topic } }];
  },
};
