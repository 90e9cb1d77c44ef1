// publish_to_topic reaches the engine's topic subscribers (the realtime endpoint subscribes the same way).
import { expect, test } from "bun:test";
import { Engine } from "../../src/engine/engine.ts";
import { GUEST } from "../../src/engine/identity/identity.ts";

test("publish_to_topic delivers to subscribers and answers Daptin's two items", async () => {
  const { engine } = Engine.open({ dbType: "sqlite", db: ":memory:" });
  const got: [string, unknown][] = [];
  engine.onTopic((topic, payload) => got.push([topic, payload]));
  const r = await engine.actions.run(GUEST, "world", "publish_to_topic", { topicName: "news", message: "hello" });
  expect(got).toEqual([["news", { message: "hello", from: null }]]);
  expect(r[1]).toEqual({ ResponseType: "publish_to_topic", Attributes: { message: "published", topic: "news" } });
  await expect(engine.actions.run(GUEST, "world", "publish_to_topic", { message: "x" })).rejects.toThrow("topicName");
  engine.close();
});
