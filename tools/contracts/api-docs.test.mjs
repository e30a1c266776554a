// The API reference `make api-docs` builds (served at /docs by `make dev`): one page per API, each
// self-contained (Redoc's bundle inside it, no script or stylesheet from a CDN, so it opens offline), each
// showing what its document describes: every operationId of the OpenAPI document, every message of the
// AsyncAPI document. Built into a temporary folder through the Makefile target itself (API_DOCS).
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { join } from "node:path";
import { tmpdir } from "node:os";
import yaml from "js-yaml";

const root = fileURLToPath(new URL("../..", import.meta.url));
const out = mkdtempSync(join(tmpdir(), "api-docs-"));
const run = spawnSync("make", ["--no-print-directory", "api-docs", `API_DOCS=${out}`], { cwd: root, encoding: "utf8" });

test.after(() => rmSync(out, { recursive: true, force: true }));

test("make api-docs builds both pages and the AsyncAPI document beside them", () => {
  assert.equal(run.status, 0, `make api-docs failed:\n${run.stdout}\n${run.stderr}`);
  assert.equal(readFileSync(join(out, "asyncapi.yaml"), "utf8"), readFileSync(join(root, "docs/asyncapi.yaml"), "utf8"));
});

/** Every external resource a page would load when opened: scripts, stylesheets, frames. */
function external(html) {
  const loads = [...html.matchAll(/<(script|link|iframe)\b[^>]*\b(src|href)="(https?:)?\/\/[^"]*"/g)];
  return loads.map((m) => m[0]).filter((tag) => !/rel="(canonical|preconnect)"/.test(tag) && !tag.startsWith("<a "));
}

for (const [page, title] of [["http.html", "Booking chat HTTP API"], ["websocket.html", "Booking chat WebSocket API"]]) {
  test(`${page} is self-contained: Redoc inside, nothing loaded from elsewhere`, () => {
    const html = readFileSync(join(out, page), "utf8");
    assert.match(html, new RegExp(`<title>${title}</title>`));
    assert.ok(html.length > 500_000, `Redoc's bundle is inlined (${html.length} bytes)`);
    // Fonts are the one thing Redoc's template links; the page falls back to the system's fonts offline.
    const loads = external(html).filter((tag) => !tag.includes("fonts.googleapis.com"));
    assert.deepEqual(loads, [], "no script or stylesheet from a CDN");
  });
}

test("http.html documents every operation of backend/openapi.json", () => {
  const html = readFileSync(join(out, "http.html"), "utf8");
  const openapi = JSON.parse(readFileSync(join(root, "backend/openapi.json"), "utf8"));
  const ids = Object.values(openapi.paths).flatMap((item) => Object.values(item).map((op) => op.operationId).filter(Boolean));
  assert.ok(ids.length > 5, `operationIds found: ${ids}`);
  for (const id of ids) assert.ok(html.includes(id), `${id} is on the page`);
});

test("websocket.html documents every message of docs/asyncapi.yaml", () => {
  const html = readFileSync(join(out, "websocket.html"), "utf8");
  const asyncapi = yaml.load(readFileSync(join(root, "docs/asyncapi.yaml"), "utf8"));
  const messages = Object.keys(asyncapi.components?.messages ?? {});
  assert.ok(messages.length > 3, `messages found: ${messages}`);
  for (const name of messages) assert.ok(html.includes(name), `${name} is on the page`);
});
