// docs/asyncapi.yaml: a valid AsyncAPI 3.0 document (@asyncapi/parser, with its rules), whose examples
// match their own schemas, and which says exactly what chat-wire says: every client action with its data
// fields, every server frame `type` with its fields, the error codes, the connection types, the handshake's
// subprotocols and the request_id limit. A frame added to wire/src without a word here fails this test.
//
// ASYNCAPI_DOCUMENT and WIRE_SRC point the test at other files (to see it fail on a broken input).
import { test, before } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { Parser } from "@asyncapi/parser";
import Ajv from "ajv";
import { readWire } from "./wire.mjs";

const root = fileURLToPath(new URL("../..", import.meta.url));
const documentPath = process.env.ASYNCAPI_DOCUMENT || `${root}docs/asyncapi.yaml`;
const wire = readWire(process.env.WIRE_SRC || `${root}wire/src`);

// Spectral's severities: 0 error, 1 warning, 2 information, 3 hint.
const SEVERITY = ["error", "warning", "information", "hint"];
let parsed;
let document;

before(async () => {
  parsed = await new Parser().parse(readFileSync(documentPath, "utf8"), { source: documentPath });
  document = parsed.document;
});

/** The payload schemas of the channel's messages, resolved, by message id. */
function payloads() {
  assert.ok(document, "the document did not parse");
  return document.allMessages().all().map((message) => ({
    id: message.id(),
    payload: message.payload()?.json() ?? {},
    examples: message.examples().all(),
  }));
}

const keys = (schema) => Object.keys(schema?.properties ?? {}).sort();
const sorted = (list) => [...list].sort();
const clientMessages = () => payloads().filter((m) => m.payload.properties?.action);
const frameMessages = () => payloads().filter((m) => m.payload.properties?.type?.const !== undefined);

test("docs/asyncapi.yaml is a valid AsyncAPI 3.0 document with no error or warning", () => {
  const problems = parsed.diagnostics.filter((d) => d.severity <= 1);
  for (const d of parsed.diagnostics.filter((d) => d.severity > 1)) {
    console.log(`${SEVERITY[d.severity]}: ${d.code} at ${d.path.join(".") || "/"}: ${d.message}`);
  }
  assert.deepEqual(
    problems.map((d) => `${SEVERITY[d.severity]}: ${d.code} at ${d.path.join(".") || "/"}: ${d.message}`),
    [],
  );
  assert.ok(document, "the parser returned no document");
  assert.equal(document.version(), "3.0.0");
});

test("the servers are the API Gateway stage and the local emulator at ws://127.0.0.1:3001/local", () => {
  const servers = Object.fromEntries(document.servers().all().map((s) => [s.id(), s]));
  const local = servers.local;
  assert.ok(local, "a server named local");
  assert.equal(`${local.protocol()}://${local.host()}${local.pathname()}`, "ws://127.0.0.1:3001/local");
  const aws = servers.aws;
  assert.ok(aws, "a server named aws");
  assert.equal(aws.protocol(), "wss");
  assert.match(aws.host(), /execute-api\.\{region\}\.amazonaws\.com$/);
});

test("every example of every message is valid against the message's payload schema", () => {
  const ajv = new Ajv({ strict: false, allErrors: true });
  ajv.addFormat("int64", { type: "number", validate: Number.isInteger });
  let count = 0;
  const invalid = [];
  for (const { id, payload, examples } of payloads()) {
    const validate = ajv.compile(payload);
    assert.ok(examples.length > 0, `message ${id} has no example`);
    for (const example of examples) {
      count += 1;
      if (!validate(example.payload())) {
        invalid.push(`${id} example ${example.name()}: ${ajv.errorsText(validate.errors)}`);
      }
    }
  }
  assert.deepEqual(invalid, []);
  assert.ok(count >= 16, `only ${count} examples`);
});

test("the client actions are exactly chat-wire's, each with its data fields and required ones", () => {
  assert.deepEqual(sorted(wire.actionNames), sorted(wire.actions), "ClientAction::name and parse_action agree");
  const byAction = Object.fromEntries(clientMessages().map((m) => [m.payload.properties.action.const, m.payload]));
  assert.deepEqual(sorted(Object.keys(byAction)), sorted(wire.actions));
  for (const action of wire.actions) {
    const data = byAction[action].properties.data ?? {};
    const expected = wire.actionData[action];
    assert.deepEqual(keys(data), sorted(expected.fields), `fields of ${action}'s data`);
    assert.deepEqual(sorted(data.required ?? []), sorted(expected.required), `required fields of ${action}'s data`);
    const requiresData = expected.required.length > 0;
    assert.equal((byAction[action].required ?? []).includes("data"), requiresData, `${action}: data required`);
    assert.deepEqual(keys(byAction[action]), sorted(["action", "data", "request_id"]), `keys of ${action}`);
  }
});

test("the two legacy shapes chat-wire accepts are described", () => {
  const legacyReaction = payloads().find((m) => m.payload.properties?.type?.const === wire.legacy.reactionType
    && !m.payload.required?.includes("timestamp"));
  assert.ok(legacyReaction, `a client message with type "${wire.legacy.reactionType}"`);
  assert.deepEqual(keys(legacyReaction.payload), sorted(["type", ...wire.actionData.react.fields, "request_id"]));
  const legacyBody = payloads().find((m) => !m.payload.properties?.action && !m.payload.properties?.type
    && m.payload.required?.includes(wire.legacy.bodyKey));
  assert.ok(legacyBody, `a client message with "${wire.legacy.bodyKey}" and no action`);
  assert.deepEqual(keys(legacyBody.payload), sorted([...wire.actionData.send_message.fields, "request_id"]));
});

test("the server frames are exactly chat-wire's `type` tags, each with exactly its fields", () => {
  assert.deepEqual(sorted(wire.frameTypeNames), sorted(wire.frames.map((f) => f.type)), "type_name and serde agree");
  const frames = frameMessages().filter((m) => m.payload.required?.includes("timestamp"));
  const byType = Object.fromEntries(frames.map((m) => [m.payload.properties.type.const, m.payload]));
  assert.deepEqual(sorted(Object.keys(byType)), sorted(wire.frames.map((f) => f.type)));
  for (const frame of wire.frames) {
    const payload = byType[frame.type];
    assert.deepEqual(keys(payload), sorted(["type", ...frame.fields]), `fields of ${frame.type}`);
    assert.deepEqual(sorted(payload.required), sorted(["type", ...frame.required]), `required fields of ${frame.type}`);
  }
});

test("ChatMessage, ReactionSummary and ErrorBody have chat-wire's fields, all required", () => {
  const schemas = document.components().schemas();
  for (const [name, expected] of Object.entries(wire.structs)) {
    const schema = schemas.get(name)?.json();
    assert.ok(schema, `components.schemas.${name}`);
    assert.deepEqual(keys(schema), sorted(expected.fields), `fields of ${name}`);
    assert.deepEqual(sorted(schema.required), sorted(expected.required), `required fields of ${name}`);
  }
});

test("the error codes are exactly chat-wire's ErrorCode", () => {
  const schema = document.components().schemas().get("ErrorCode")?.json();
  assert.deepEqual(sorted(schema?.enum ?? []), sorted(wire.errorCodes));
  const error = frameMessages().find((m) => m.payload.properties.type.const === "error");
  assert.deepEqual(sorted(error.payload.properties.error.properties.code.enum), sorted(wire.errorCodes));
});

test("the handshake: ?booking_id= required but with type=user, ?type= is chat-wire's connection types, the subprotocol pair, request_id's limit", () => {
  const channel = document.channels().get("chat");
  assert.ok(channel, "channel chat");
  const ws = channel.bindings().get("ws")?.json();
  assert.ok(ws, "a ws binding on the channel");
  // Required unless type=user: said in words, as the binding's schema cannot say it for one type alone.
  assert.equal(ws.query.required, undefined);
  assert.match(ws.query.properties.booking_id.description, /Required, except with type=user/);
  assert.deepEqual(sorted(ws.query.properties.type.enum), sorted(wire.connectionTypes));
  assert.ok(ws.query.properties.token, "the ?token= alternative");
  const pair = `${wire.chatSubprotocol}, ${wire.bearerPrefix}<jwt>`;
  assert.ok(channel.description().includes(pair), `the channel describes the subprotocol pair ${pair}`);
  assert.ok(ws.headers.properties["Sec-WebSocket-Protocol"].description.includes(pair));
  for (const status of ["400", "401", "403", "404", "502", "503"]) {
    assert.ok(channel.json()["x-handshake-refusals"]?.[status], `refusal ${status} described`);
  }
  const schemas = document.components().schemas();
  const requestId = schemas.get("RequestId").json();
  assert.deepEqual(requestId.oneOf.find((s) => s.type === "string").maxLength, wire.maxRequestIdChars);
  assert.equal(schemas.get("EchoedRequestId").json().maxLength, wire.maxRequestIdChars);
});
