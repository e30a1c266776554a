// The size budgets (size-budgets.json, which says why each is what it is), bundled and minified as the package
// ships them, gzipped: the core client (what a chat page loads without the element), the client plus the
// element, the React entry on top of the client, the inbox under 15 KB (without the chat's style sheet), the
// attachments entry (Uploads), the Web Push helper and the service worker under 2 KB each, none with anything of
// the element in it.
// Built here with the package's own esbuild settings, so a stale dist/ cannot hide growth. Each test prints what
// it measured.

import { readFileSync } from "node:fs";
import { gzipSync } from "node:zlib";
import { build } from "esbuild";
import { expect, it } from "vitest";

/** The budgets (size-budgets.json, which the build prints against too). */
const budgets = JSON.parse(readFileSync("size-budgets.json", "utf8")) as Record<
  "client" | "attachments" | "element" | "react" | "inbox" | "push" | "sw",
  { budget: number }
>;
const BUDGET_BYTES = budgets.element.budget;
const CLIENT_BUDGET_BYTES = budgets.client.budget;
const ATTACHMENTS_BUDGET_BYTES = budgets.attachments.budget;
const REACT_BUDGET_BYTES = budgets.react.budget;
const INBOX_BUDGET_BYTES = budgets.inbox.budget;
const PUSH_BUDGET_BYTES = budgets.push.budget;
const SW_BUDGET_BYTES = budgets.sw.budget;

async function bundle(entry: string): Promise<{ gzipped: number; text: string }> {
  const result = await build({
    entryPoints: [entry],
    external: ["react"],
    bundle: true,
    format: "esm",
    target: "es2022",
    minify: true,
    legalComments: "none",
    write: false,
  });
  const [file] = result.outputFiles;
  if (!file) throw new Error(`no output for ${entry}`);
  return { gzipped: gzipSync(file.contents, { level: 9 }).length, text: file.text };
}

it("client plus component fit in their budget, minified and gzipped", async () => {
  const size = (await bundle("src/index.ts")).gzipped;
  console.log(`# size: client + <booking-chat> ${size} bytes gzipped (budget ${BUDGET_BYTES})`);
  expect(size).toBeLessThanOrEqual(BUDGET_BYTES);
});

it("the headless client alone fits in its budget and has no DOM element in it", async () => {
  const client = await bundle("src/client/index.ts");
  const whole = await bundle("src/index.ts");
  console.log(`# size: headless client ${client.gzipped} bytes gzipped (budget ${CLIENT_BUDGET_BYTES})`);
  expect(client.gzipped).toBeLessThanOrEqual(CLIENT_BUDGET_BYTES);
  expect(client.gzipped).toBeLessThan(whole.gzipped);
  expect(client.text).not.toMatch(/customElements|attachShadow|HTMLElement/);
  expect(whole.text).toMatch(/attachShadow/);
});

it("the attachments entry (Uploads) fits in 2 KB, has no element in it, and the client alone does not carry it", async () => {
  const attachments = await bundle("src/client/attachments.ts");
  const client = await bundle("src/client/index.ts");
  console.log(`# size: attachments entry ${attachments.gzipped} bytes gzipped (budget ${ATTACHMENTS_BUDGET_BYTES})`);
  expect(attachments.gzipped).toBeLessThanOrEqual(ATTACHMENTS_BUDGET_BYTES);
  expect(attachments.text).not.toMatch(/customElements|attachShadow|WebSocket/);
  expect(client.text).not.toMatch(/XMLHttpRequest/);
});

it("the React entry adds less than 3 KB to the client, and bundles no React", async () => {
  const client = await bundle("src/client/index.ts");
  const react = await bundle("src/react/index.ts");
  const added = react.gzipped - client.gzipped;
  console.log(`# size: React entry ${react.gzipped} bytes gzipped with the client, ${added} on top of it (budget ${REACT_BUDGET_BYTES})`);
  expect(added).toBeLessThanOrEqual(REACT_BUDGET_BYTES);
  expect(react.text).toMatch(/from"react"/);
  expect(react.text).not.toMatch(/__SECRET_INTERNALS|react\.production/);
});

it("<booking-inbox> with the client and the per-user channel fits in 15 KB", async () => {
  const inbox = await bundle("src/inbox.ts");
  console.log(`# size: client + per-user channel + <booking-inbox> ${inbox.gzipped} bytes gzipped (budget ${INBOX_BUDGET_BYTES})`);
  expect(inbox.gzipped).toBeLessThanOrEqual(INBOX_BUDGET_BYTES);
  // The chat's style sheet is built by a pure call: the inbox, which imports only its palette, leaves it out.
  expect(inbox.text).not.toMatch(/\.bubble\{/);
});

it("the Web Push helper fits in 2 KB and has nothing of the client or the element in it", async () => {
  const push = await bundle("src/push.ts");
  console.log(`# size: Web Push helper ${push.gzipped} bytes gzipped (budget ${PUSH_BUDGET_BYTES})`);
  expect(push.gzipped).toBeLessThanOrEqual(PUSH_BUDGET_BYTES);
  expect(push.text).not.toMatch(/customElements|attachShadow|WebSocket/);
});

it("the service worker fits in 2 KB and has nothing of the client or the element in it", async () => {
  const sw = await bundle("src/sw.ts");
  console.log(`# size: service worker ${sw.gzipped} bytes gzipped (budget ${SW_BUDGET_BYTES})`);
  expect(sw.gzipped).toBeLessThanOrEqual(SW_BUDGET_BYTES);
  expect(sw.text).not.toMatch(/customElements|attachShadow|WebSocket/);
});
