// lambda/events/*.json, the fixtures of `cargo lambda invoke` (docs/local-development.md, "Lambda paths"): each has the fields
// emulator/src/events.rs builds for its event, the authorizer's context has the keys lambda/src/authorizer.rs
// writes (stringified, as API Gateway passes them on), and scripts/lambda-event.py makes them current.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { join } from "node:path";

const root = fileURLToPath(new URL("../..", import.meta.url));
const events = process.env.LAMBDA_EVENTS || join(root, "lambda/events");
const load = (name) => JSON.parse(readFileSync(join(events, `${name}.json`), "utf8"));
const sorted = (list) => [...list].sort();

/** The keys of the `json!({...})` literal that starts after `marker` in emulator/src/events.rs. */
function jsonKeys(marker) {
  const src = readFileSync(join(root, "emulator/src/events.rs"), "utf8");
  const start = src.indexOf("json!({", src.indexOf(marker));
  assert.ok(start >= 0, `json!({ after ${marker} in emulator/src/events.rs`);
  const literal = src.slice(start, src.indexOf("})", start));
  const keys = [...literal.matchAll(/"([A-Za-z$]+)":/g)].map((m) => m[1]);
  assert.ok(keys.length > 0, `keys of the json! after ${marker}`);
  return keys;
}

/** The authorizer context's keys as lambda/src/authorizer.rs names them (`const STATUS: &str = "status"`). */
function authorizerContextKeys() {
  const src = readFileSync(join(root, "lambda/src/authorizer.rs"), "utf8");
  const keys = [...src.matchAll(/^const [A-Z_]+: &str = "([a-z_]+)";/gm)].map((m) => m[1]);
  assert.ok(keys.length >= 5, "the context keys of lambda/src/authorizer.rs");
  return keys;
}

const contextKeys = jsonKeys("fn context(");
const cases = {
  authorizer: { routeKey: "$connect", eventType: "CONNECT", top: jsonKeys("pub fn authorizer("), authorizer: false },
  connect: { routeKey: "$connect", eventType: "CONNECT", top: jsonKeys("pub fn connect("), authorizer: true },
  "default-send-message": { routeKey: "$default", eventType: "MESSAGE", top: ["requestContext", "body", "isBase64Encoded"], authorizer: true, extra: ["messageId"] },
  disconnect: { routeKey: "$disconnect", eventType: "DISCONNECT", top: ["headers", "requestContext", "isBase64Encoded"], authorizer: true, extra: ["disconnectStatusCode", "disconnectReason"] },
};

for (const [name, expected] of Object.entries(cases)) {
  test(`lambda/events/${name}.json has the fields the emulator builds for ${expected.routeKey}`, () => {
    const event = load(name);
    for (const key of expected.top) assert.ok(key in event, `${name}: ${key}`);
    const context = event.requestContext;
    assert.deepEqual(
      sorted(Object.keys(context)),
      sorted([...contextKeys, ...(expected.extra ?? []), ...(expected.authorizer ? ["authorizer"] : [])]),
    );
    assert.equal(context.routeKey, expected.routeKey);
    assert.equal(context.eventType, expected.eventType);
    assert.equal(context.connectionId, "Vx2pYdWsliACFtw=", "one connection through all four events");
    if (expected.authorizer) {
      // The fixtures are a chat connection's: `booking_ids` is a user connection's key, in place of `booking_id`.
      const keys = authorizerContextKeys().filter((key) => key !== "booking_ids");
      assert.deepEqual(sorted(Object.keys(context.authorizer)), sorted(["principalId", ...keys]));
      for (const value of Object.values(context.authorizer)) assert.equal(typeof value, "string", "values stringified");
    }
  });
}

test("the $default fixture carries a send_message frame", () => {
  const frame = JSON.parse(load("default-send-message").body);
  assert.equal(frame.action, "send_message");
  assert.ok(frame.data.body);
});

test("scripts/lambda-event.py makes a fixture current: times now, a signed token, its expiry in the context", () => {
  const run = (name) => spawnSync("python3", [join(root, "scripts/lambda-event.py"), name, "--user", "bob"], { encoding: "utf8" });
  const before = Date.now();
  const authorizer = run("authorizer");
  assert.equal(authorizer.status, 0, authorizer.stderr);
  const event = JSON.parse(authorizer.stdout);
  assert.ok(Math.abs(event.requestContext.connectedAt - before) < 10_000, "connectedAt is now");
  const offer = event.headers["sec-websocket-protocol"];
  assert.match(offer, /^chat\.v1, bearer\.[\w-]+\.[\w-]+\.[\w-]+$/);
  const token = offer.slice(offer.indexOf("bearer.") + "bearer.".length);
  const claims = JSON.parse(Buffer.from(token.split(".")[1], "base64url").toString());
  assert.equal(claims.sub, "bob");
  const message = JSON.parse(run("default-send-message").stdout);
  assert.equal(message.requestContext.authorizer.user_id, "bob");
  assert.ok(Number(message.requestContext.authorizer.expires_at) * 1000 > before, "the token expires later");
});
