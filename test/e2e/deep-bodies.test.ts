// Request bodies nested very deep (issue 11): one depth limit for every JSON body, checked before parsing, so a
// 40,000-level body is a quick 400 instead of seconds of JSON.stringify on the server's thread.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { copyFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { api, FIXTURES, pingWhile, startServer, tempDir, type TestServer } from "../helpers/daptin.ts";

let s: TestServer;

/** `{"v": {"v": ... 1 ...}}` nested `depth` levels (objects counted, as a parser sees them). */
const nested = (depth: number) => `${'{"v":'.repeat(depth - 1)}{"v":1}${"}".repeat(depth - 1)}`;

beforeAll(async () => {
  const dir = tempDir();
  copyFileSync(join(FIXTURES, "schema_entry.yaml"), join(dir, "schema_entry.yaml"));
  writeFileSync(join(dir, "schema_echo.yaml"), [
    "Actions:",
    "  - Name: echo",
    "    Label: Echo the attributes",
    "    OnType: entry",
    "    InstanceOptional: true",
    "    OutFields:",
    "      - {Type: echo, Method: ACTIONRESPONSE}",
    "",
  ].join("\n"));
  s = await startServer({ dir });
});
afterAll(async () => {
  await s.stop();
});

/** Sends the request while /ping is probed; the request's time and the longest /ping wait. */
async function timed(method: string, path: string, body: string) {
  const t = performance.now();
  const { result: r, worst } = await pingWhile(s, () => api(s, method, path, body, { "Content-Type": "application/json" }));
  return { r, ms: performance.now() - t, worst };
}

describe("one depth limit for JSON request bodies (128 levels)", () => {
  test("a 40,000-level body on /api is a fast 400 naming the limit; /ping keeps answering", async () => {
    const body = `{"data":{"type":"entry","attributes":{"data":${nested(40_000)}}}}`;
    const { r, ms, worst } = await timed("POST", "/api/entry", body);
    expect(r.status).toBe(400);
    expect(r.body.errors[0].detail).toContain("deeper than 128 levels");
    // Wide bounds for a busy machine: the scan itself takes well under 10 ms.
    expect(ms).toBeLessThan(1000);
    expect(worst).toBeLessThan(1000);
    expect((await api(s, "GET", "/api/entry")).body.data.length).toBe(0);
  });

  test("a 40,000-level body on /action is a fast 400 (an ACTIONRESPONSE would have echoed it back)", async () => {
    const { r, ms, worst } = await timed("POST", "/action/entry/echo", `{"attributes":{"deep":${nested(40_000)}}}`);
    expect(r.status).toBe(400);
    expect(r.body[0].Attributes.message).toContain("deeper than 128 levels");
    expect(ms).toBeLessThan(1000);
    expect(worst).toBeLessThan(1000);
    // Arrays count as well as objects; brackets inside strings do not.
    expect((await api(s, "POST", "/action/entry/echo", `{"deep":${"[".repeat(200)}${"]".repeat(200)}}`)).status).toBe(400);
    const inString = await api(s, "POST", "/action/entry/echo", JSON.stringify({ text: `${"[{".repeat(500)} \\" ${"}]".repeat(500)}` }));
    expect(inString.status).toBe(200);
    expect(inString.body[0].Attributes.text).toContain("[{[{");
  });

  test("what json columns accept (100 levels) still fits in the envelope; a form body with brackets is still a form", async () => {
    const ok = await api(s, "POST", "/api/entry", `{"data":{"type":"entry","attributes":{"data":${nested(100)}}}}`);
    expect(ok.status).toBe(201);
    expect((await api(s, "POST", "/api/entry", `{"data":{"type":"entry","attributes":{"data":${nested(101)}}}}`)).status).toBe(422);
    const echoed = await api(s, "POST", "/action/entry/echo", `{"attributes":{"deep":${nested(120)}}}`);
    expect(echoed.status).toBe(200);
    const form = await fetch(`${s.url}/action/entry/echo`, {
      method: "POST", headers: { "Content-Type": "application/x-www-form-urlencoded" }, body: `note=${"[".repeat(300)}`,
    });
    expect(form.status).toBe(200);
    expect(((await form.json()) as any)[0].Attributes.note).toBe("[".repeat(300));
  });
});
