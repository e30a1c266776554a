// The backend's OpenAPI document: it passes Redocly's recommended rules with no error and no warning (the
// exceptions, each with its reason, are in .redocly.lint-ignore.yaml).
//
// Which document: the `apis` of redocly.yaml (backend/openapi.json, which `make openapi` generates from the
// backend's routes and types; a Rust test, backend/tests/api/ops.rs, fails while it differs from them), or
// OPENAPI_DOCUMENT to lint another file (to see the test fail on one).
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { join } from "node:path";
import yaml from "js-yaml";

const root = fileURLToPath(new URL("../..", import.meta.url));
const redocly = join(root, "tools/contracts/node_modules/.bin/redocly");
const config = join(root, "redocly.yaml");

/** The documents to lint, by name: OPENAPI_DOCUMENT, or every API of redocly.yaml. */
function documents() {
  if (process.env.OPENAPI_DOCUMENT) return { backend: process.env.OPENAPI_DOCUMENT };
  const apis = yaml.load(readFileSync(config, "utf8"))?.apis ?? {};
  return Object.fromEntries(Object.entries(apis).map(([name, api]) => [name, join(root, api.root)]));
}

test("redocly.yaml names the backend's OpenAPI document, and it exists", () => {
  const found = documents();
  assert.ok(found.backend, "an API named backend in redocly.yaml");
  for (const [name, path] of Object.entries(found)) assert.ok(existsSync(path), `${name}: ${path} is missing`);
});

for (const [name, path] of Object.entries(documents())) {
  test(`${name} (${path.replace(root, "")}) passes Redocly's recommended rules with no error or warning`, () => {
    const run = spawnSync(redocly, ["lint", path, "--config", config, "--format=json"], {
      cwd: root,
      encoding: "utf8",
      // Offline and quiet: no telemetry, no update check.
      env: { ...process.env, REDOCLY_TELEMETRY: "off", REDOCLY_SUPPRESS_UPDATE_NOTICE: "true", NO_COLOR: "1" },
    });
    assert.equal(run.error, undefined, `cannot run ${redocly}: ${run.error}`);
    const start = run.stdout.indexOf("{");
    assert.ok(start >= 0, `redocly printed no report:\n${run.stdout}\n${run.stderr}`);
    const report = JSON.parse(run.stdout.slice(start));
    const problems = report.problems.map((p) => {
      const where = p.location?.map((l) => l.pointer).join(", ") ?? "";
      return `${p.severity} ${p.ruleId} at ${where}: ${p.message}`;
    });
    assert.deepEqual(problems, []);
    assert.equal(report.totals.errors + report.totals.warnings, 0);
  });
}
