// The backend's OpenAPI document: it passes Redocly's recommended rules with no error and no warning (the
// exceptions, each with its reason, are in .redocly.lint-ignore.yaml), and it documents exactly the routes
// backend/src/http/mod.rs serves outside local mode.
//
// Which document: the `apis` of redocly.yaml (today backend/openapi.json, hand-written; a generated one drops
// in by changing `root` there), or OPENAPI_DOCUMENT to lint another file (to see the test fail on one).
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

/** The (METHOD, path) pairs the backend's router serves, and those it serves only with APP_ENV=local. */
function servedRoutes() {
  const src = readFileSync(join(root, "backend/src/http/mod.rs"), "utf8");
  const router = src.slice(src.indexOf("pub fn router("));
  const localStart = router.indexOf("if state.dev_jwt.is_some() {");
  const localEnd = router.indexOf("\n    }", localStart);
  const routes = { always: [], local: [] };
  // `.route("/path", get(handler))`, or several methods chained: `get(a).put(b)`.
  for (const match of router.matchAll(/\.route\("([^"]+)",\s*((?:\.?[a-z]+\([\w:]+\))+)\)/g)) {
    const local = localStart >= 0 && match.index > localStart && match.index < localEnd;
    for (const method of match[2].matchAll(/([a-z]+)\(/g)) {
      routes[local ? "local" : "always"].push(`${method[1].toUpperCase()} ${match[1]}`);
    }
  }
  assert.ok(routes.always.length > 0, "no .route(...) found in backend/src/http/mod.rs: has the router changed shape?");
  return routes;
}

// Routes mounted for one transport only (the direct WebSocket, not in the backend's Lambda) are documented too.
test("the backend's document lists exactly the routes backend/src/http/mod.rs serves outside local mode", () => {
  const document = JSON.parse(readFileSync(documents().backend, "utf8"));
  const methods = ["get", "put", "post", "delete", "options", "head", "patch", "trace"];
  const documented = Object.entries(document.paths).flatMap(([path, item]) =>
    Object.keys(item).filter((k) => methods.includes(k)).map((m) => `${m.toUpperCase()} ${path}`),
  );
  const { always, local } = servedRoutes();
  assert.ok(local.length > 0, "the local-only routes (demo page, /dev/...) were found");
  assert.deepEqual(documented.sort(), always.sort());
});
