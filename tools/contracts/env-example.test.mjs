// .env.example lists every variable chat-dev and chat-backend read (found in their settings' source:
// backend/src/config.rs, store/src/lib.rs, files/src/ (the file store and the attachment rules),
// dev-stack/src/settings.rs, and the AWS_TIMEOUT_MS chat-dev shares with the Lambda),
// and is a file a shell can source as docs/configuration.md says.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { join } from "node:path";

const root = fileURLToPath(new URL("../..", import.meta.url));
const example = process.env.ENV_EXAMPLE || join(root, ".env.example");
const sources = [
  "backend/src/config.rs",
  "dev-stack/src/settings.rs",
  "lambda/src/config.rs",
  "store/src/lib.rs",
  "store/src/notifications.rs",
  "files/src/lib.rs",
  "files/src/rules.rs",
];

/** The variables a settings file reads: lookup("X"), parse(&lookup, "X", ..), secret("X", ..). */
function variablesRead(file) {
  const src = readFileSync(join(root, file), "utf8");
  const code = src.slice(0, src.indexOf("#[cfg(test)]") >>> 0);
  const found = new Set();
  for (const m of code.matchAll(/(?:lookup|secret)\("([A-Z][A-Z0-9_]*)"|parse(?:_bool)?\(&?lookup, "([A-Z][A-Z0-9_]*)"/g)) {
    found.add(m[1] ?? m[2]);
  }
  return found;
}

test(".env.example lists every variable chat-dev and chat-backend read", () => {
  // The backend reads the chat store's settings and the unsubscribe key through chat-store.
  // and the file store's and the attachments' through chat-files.
  const backend = new Set([0, 3, 4, 5, 6].flatMap((i) => [...variablesRead(sources[i])]));
  const dev = variablesRead(sources[1]);
  // Of the Lambda's configuration, chat-dev reads only the AWS call budget (chat_proxy::config::aws_timeout).
  assert.ok(variablesRead(sources[2]).has("AWS_TIMEOUT_MS"), "lambda/src/config.rs reads AWS_TIMEOUT_MS");
  const read = new Set([...backend, ...dev, "AWS_TIMEOUT_MS", "RUST_LOG"]);
  assert.ok(backend.size >= 20 && dev.size >= 4, `few variables found (${[...read]}): has the source changed shape?`);
  const listed = new Set(
    [...readFileSync(example, "utf8").matchAll(/^#? ?([A-Z][A-Z0-9_]*)=/gm)].map((m) => m[1]),
  );
  assert.deepEqual([...read].filter((name) => !listed.has(name)).sort(), []);
});

test(".env.example can be sourced by a shell and sets nothing until a line is uncommented", () => {
  const shell = (script) =>
    spawnSync("bash", ["--norc", "--noprofile", "-c", script, example], { encoding: "utf8", env: { PATH: process.env.PATH } });
  const before = shell("env | sort");
  const after = shell('set -a; . "$0"; set +a; env | sort');
  assert.equal(after.stderr, "");
  assert.equal(after.status, 0);
  assert.equal(after.stdout, before.stdout);
});
