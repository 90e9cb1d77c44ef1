// publish_to_topic reaches the engine's topic subscribers (the realtime endpoint subscribes the same way).
import { expect, test } from "bun:test";
import { Engine } from "../../src/engine/engine.ts";
import { GUEST } from "../../src/engine/identity/identity.ts";

test("publish_to_topic delivers to subscribers of a table's topic and answers Daptin's two items", async () => {
  const { engine } = Engine.open({ dbType: "sqlite", db: ":memory:" });
  const got: [string, unknown][] = [];
  engine.onTopic((topic, payload) => got.push([topic, payload]));
  const r = await engine.actions.run(GUEST, "world", "publish_to_topic", { topicName: "usergroup", message: { text: "hello" } });
  expect(got).toEqual([["usergroup", { message: { text: "hello" }, from: null }]]);
  expect(r[1]).toEqual({ ResponseType: "publish_to_topic", Attributes: { message: "published", topic: "usergroup" } });
  await expect(engine.actions.run(GUEST, "world", "publish_to_topic", { message: "x" })).rejects.toThrow("topicName");
  await expect(engine.actions.run(GUEST, "world", "publish_to_topic", { topicName: "usergroup" })).rejects.toThrow("missing or invalid message");
  engine.close();
});

test("publish_to_topic to a topic that does not exist is a 404 and delivers nothing", async () => {
  const { engine } = Engine.open({ dbType: "sqlite", db: ":memory:" });
  const got: unknown[] = [];
  engine.onTopic((topic) => got.push(topic));
  const e = await engine.actions.run(GUEST, "world", "publish_to_topic", { topicName: "no-such-topic", message: "hi" }).catch((x) => x);
  expect(e).toMatchObject({ kind: "not_found", detail: "topic not found: no-such-topic" });
  expect(got).toEqual([]);
  engine.close();
});
