// What chat-wire (wire/src) defines, read from its Rust source text: the client actions and the data each
// carries, the server frames' `type` tags and fields, the error codes, the connection types and the
// handshake constants. A regex reader of rustfmt-formatted code, not a Rust parser: every function throws
// when it finds nothing, so a change of layout fails the tests loudly instead of passing them vacuously.
import { readFileSync } from "node:fs";
import { join } from "node:path";

const read = (dir, file) => readFileSync(join(dir, file), "utf8");

function fail(what) {
  throw new Error(`chat-wire: ${what} not found; has wire/src changed shape? (tools/contracts/wire.mjs)`);
}

/** The text of the item starting at `header` (e.g. `pub enum ServerPayload {`) up to its closing brace. */
function item(src, header) {
  const start = src.indexOf(header);
  if (start < 0) fail(header);
  const end = src.indexOf("\n}", start);
  if (end < 0) fail(`the end of ${header}`);
  return { body: src.slice(start + header.length, end), attributes: attributesBefore(src, start) };
}

/** The `#[...]` lines right above the item starting at `index`. */
function attributesBefore(src, index) {
  const lines = src.slice(0, index).split("\n");
  lines.pop(); // the item's own line, up to its start
  const attributes = [];
  while (lines.length && /^\s*(#\[|\/\/\/)/.test(lines[lines.length - 1])) {
    attributes.unshift(lines.pop().trim());
  }
  return attributes.filter((line) => line.startsWith("#["));
}

function renameAll(attributes) {
  const match = attributes.join(" ").match(/rename_all\s*=\s*"([^"]+)"/);
  return match ? match[1] : null;
}

const snake = (name) => name.replace(/([a-z0-9])([A-Z])/g, "$1_$2").toLowerCase();

function rename(name, rule) {
  switch (rule) {
    case null:
      return name;
    case "snake_case":
      return snake(name);
    case "SCREAMING_SNAKE_CASE":
      return snake(name).toUpperCase();
    default:
      throw new Error(`chat-wire: rename_all = "${rule}" is not handled by tools/contracts/wire.mjs`);
  }
}

/**
 * A struct's or a variant's fields (at `indent` spaces), with their attributes and types.
 * @returns {{name: string, type: string, attributes: string[]}[]}
 */
function fields(body, indent) {
  const fieldLine = new RegExp(`^ {${indent}}(?:pub(?:\\([a-z]+\\))? )?(?:r#)?([a-z_][a-z0-9_]*): (.+?),?$`);
  const attributeLine = new RegExp(`^ {${indent}}#\\[`);
  const found = [];
  let attributes = [];
  for (const line of body.split("\n")) {
    if (attributeLine.test(line)) {
      attributes.push(line.trim());
      continue;
    }
    const match = line.match(fieldLine);
    if (match) {
      found.push({ name: match[1], type: match[2], attributes });
      attributes = [];
    } else if (!/^\s*\/\//.test(line)) {
      attributes = [];
    }
  }
  return found;
}

/** A struct's fields. */
function structFields(src, name) {
  const { body } = item(src, `struct ${name} {`);
  const found = fields(body, 4);
  if (!found.length) fail(`the fields of struct ${name}`);
  return found;
}

/**
 * An enum's variants as they appear on the wire (serde's `rename_all` and `rename` applied), each with its
 * fields.
 */
function enumVariants(src, name) {
  const { body, attributes } = item(src, `pub enum ${name} {`);
  const rule = renameAll(attributes);
  const variants = [];
  let pendingRename = null;
  let current = null;
  for (const line of body.split("\n")) {
    const rename_ = line.match(/^ {4}#\[serde\(.*\brename\s*=\s*"([^"]+)"/);
    if (rename_) {
      pendingRename = rename_[1];
      continue;
    }
    const variant = line.match(/^ {4}([A-Z][A-Za-z0-9]*)\b\s*(\{|,|\(|$)/);
    if (variant) {
      current = { rust: variant[1], wire: pendingRename ?? rename(variant[1], rule), body: "" };
      variants.push(current);
      pendingRename = null;
      continue;
    }
    if (current && /^ {8}/.test(line)) current.body += `${line}\n`;
  }
  if (!variants.length) fail(`the variants of enum ${name}`);
  return variants.map(({ rust, wire, body }) => ({ rust, wire, fields: fields(body, 8) }));
}

/** The string arms of a `match` inside function `fn`: `"name" => ...`. */
function matchArms(src, fn) {
  const start = src.indexOf(`fn ${fn}(`);
  if (start < 0) fail(`fn ${fn}`);
  const end = src.indexOf("\n}", start);
  const arms = [...src.slice(start, end).matchAll(/^\s*"([a-z_]+)" =>/gm)].map((m) => m[1]);
  if (!arms.length) fail(`the arms of fn ${fn}`);
  return arms;
}

/** The strings a method answers per variant: `Self::Variant { .. } => "name"` inside `fn`. */
function selfArms(src, fn) {
  const start = src.indexOf(`fn ${fn}(`);
  if (start < 0) fail(`fn ${fn}`);
  const end = src.indexOf("\n    }", start);
  const arms = [...src.slice(start, end).matchAll(/Self::[A-Za-z]+(?: \{ \.\. \})? => "([a-z_]+)"/g)].map((m) => m[1]);
  if (!arms.length) fail(`the arms of fn ${fn}`);
  return arms;
}

function constant(src, name) {
  const match = src.match(new RegExp(`pub const ${name}: [^=]+= "?([^";]+)"?;`));
  if (!match) fail(`const ${name}`);
  return match[1];
}

const optional = (field) => /^Option</.test(field.type) || field.attributes.some((a) => /serde\(.*\bdefault\b/.test(a));
const skipped = (field) => field.attributes.some((a) => /skip_serializing_if/.test(a));
const flattened = (field) => field.attributes.some((a) => /serde\(.*\bflatten\b/.test(a));

/** Everything the AsyncAPI document must agree with, read from `dir` (wire/src). */
export function readWire(dir) {
  const client = read(dir, "client.rs");
  const server = read(dir, "server.rs");
  const proxy = read(dir, "proxy.rs");
  const handshake = read(dir, "handshake.rs");

  // Client actions: what parse_action accepts, the struct each one's data is read into, and its name().
  const actions = matchArms(client, "parse_action");
  const names = selfArms(client, "name");
  const dataStructs = Object.fromEntries(
    [...client.matchAll(/"([a-z_]+)" => \{\s*let d: ([A-Za-z]+) =/g)].map((m) => [m[1], m[2]]),
  );
  const actionData = Object.fromEntries(
    actions.map((action) => {
      const struct = dataStructs[action];
      const data = struct ? structFields(client, struct) : [];
      return [
        action,
        { fields: data.map((f) => f.name), required: data.filter((f) => !optional(f)).map((f) => f.name) },
      ];
    }),
  );
  const legacy = client.slice(client.indexOf("fn parse_legacy"));
  const legacyType = legacy.match(/Some\("([a-z_]+)"\)/);
  const legacyKey = legacy.match(/contains_key\("([a-z_]+)"\)/);
  if (!legacyType || !legacyKey) fail("the legacy shapes of parse_legacy");

  // Server frames: ServerPayload's variants, flattened into ServerFrame beside its own fields.
  const envelope = structFields(server, "ServerFrame").filter((f) => !flattened(f));
  const frames = enumVariants(server, "ServerPayload").map(({ wire, fields: own }) => ({
    type: wire,
    fields: [...own.map((f) => f.name), ...envelope.map((f) => f.name)],
    required: [...own.filter((f) => !skipped(f)).map((f) => f.name), ...envelope.filter((f) => !skipped(f)).map((f) => f.name)],
  }));
  const typeNames = selfArms(server, "type_name");
  const structs = Object.fromEntries(
    ["ChatMessage", "ReactionSummary", "ErrorBody"].map((name) => {
      const found = structFields(server, name);
      return [name, { fields: found.map((f) => f.name), required: found.filter((f) => !skipped(f)).map((f) => f.name) }];
    }),
  );

  return {
    actions,
    actionNames: names,
    actionData,
    legacy: { reactionType: legacyType[1], bodyKey: legacyKey[1] },
    frames,
    frameTypeNames: typeNames,
    structs,
    errorCodes: enumVariants(server, "ErrorCode").map((v) => v.wire),
    connectionTypes: enumVariants(proxy, "ConnectionType").map((v) => v.wire),
    maxRequestIdChars: Number(constant(client, "MAX_REQUEST_ID_CHARS")),
    chatSubprotocol: constant(handshake, "CHAT_SUBPROTOCOL"),
    bearerPrefix: constant(handshake, "BEARER_SUBPROTOCOL_PREFIX"),
  };
}
