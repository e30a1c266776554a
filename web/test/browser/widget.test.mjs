// `<booking-chat>` in real Chromium against the running local stack (chat-dev: the API Gateway emulator with the
// Lambda in-process, the backend on SQLite): two widgets chat; the stack is stopped and started again
// mid-conversation and both recover by themselves, delivering what was typed meanwhile exactly once and in
// order; an expiring token is replaced unnoticed; refused handshakes are told apart; axe-core finds no
// violations; screenshots at desktop and phone sizes are kept in web/test-results/.
//
// Needs CHAT_DEV_BIN (the chat-dev binary) and a built bundle (npm run build); scripts/browser-tests.sh
// provides both.

import assert from "node:assert/strict";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { chromium } from "playwright-core";
import { ARTEFACTS, CHROMIUM_OPTIONS, Stack, startSite, axe } from "./harness.mjs";

const BIN = process.env.CHAT_DEV_BIN;
let stack;
let site;
let browser;

before(async () => {
  assert.ok(BIN, "CHAT_DEV_BIN must name the chat-dev binary");
  stack = new Stack(BIN);
  await stack.start();
  site = await startSite(stack);
  browser = await chromium.launch(CHROMIUM_OPTIONS);
});

after(async () => {
  await browser?.close();
  await site?.close();
  if (stack) {
    if (process.exitCode) console.log(`--- chat-dev log ---\n${stack.log}`);
    await stack.dispose();
  }
});

/** A widget of the page, by its heading. Playwright's CSS selectors pierce open shadow roots. */
const chat = (heading) => `booking-chat[heading="${heading}"]`;
const state = (page, heading) => page.locator(`${chat(heading)} .status`).getAttribute("data-state");
const waitOnline = (page, heading, timeout = 20_000) =>
  page.waitForSelector(`${chat(heading)} .status[data-state=online]`, { timeout });
/** The bodies of a widget's messages, in order, with their state. */
const messages = (page, heading) =>
  page.$$eval(`${chat(heading)} li.msg`, (items) => items.map((li) => [li.querySelector(".body").textContent, li.dataset.state]));

async function send(page, heading, text) {
  await page.fill(`${chat(heading)} textarea`, text);
  await page.press(`${chat(heading)} textarea`, "Enter");
}

/** The stored messages of booking 1, from the backend's history route. */
async function stored() {
  const { token } = await (await fetch(`${stack.backendUrl}/dev/token?user=alice`)).json();
  const page = await fetch(`${stack.backendUrl}/api/chat/bookings/1/messages?limit=100`, {
    headers: { authorization: `Bearer ${token}` },
  });
  return (await page.json()).messages.map((m) => m.body);
}

function watchErrors(page) {
  const errors = [];
  page.on("pageerror", (e) => errors.push(e.message));
  return errors;
}

let demo;

test("the demo page's two widgets chat through the emulator: messages, typing, reactions, seen", async () => {
  demo = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  const errors = watchErrors(demo);
  await demo.goto(site.url);
  await waitOnline(demo, "alice");
  await waitOnline(demo, "bob");
  assert.match(await demo.textContent("#ws-url"), /\/local\?booking_id=1$/);

  const hello = `Is the canoe free on Saturday? ${Date.now()}`;
  await send(demo, "bob", hello);
  await demo.waitForSelector(`${chat("alice")} li.msg:has-text("${hello}")`);
  await demo.waitForSelector(`${chat("bob")} li.mine[data-state=sent]:has-text("${hello}")`);
  assert.equal(await demo.evaluate(() => document.activeElement?.getAttribute("heading")), "bob");
  assert.equal(
    await demo.locator(`${chat("bob")} textarea`).evaluate((el) => el.getRootNode().activeElement === el),
    true,
    "focus stays in the input after sending",
  );

  await demo.fill(`${chat("alice")} textarea[part=input]`, "Y");
  await demo.waitForSelector(`${chat("bob")} .typing:has-text("alice is typing")`);
  const reply = `Yes, see you at 9. ${Date.now()}`;
  await send(demo, "alice", reply);
  await demo.waitForSelector(`${chat("bob")} li.msg:has-text("${reply}")`);
  await demo.waitForSelector(`${chat("bob")} .typing:empty`);
  // Typing right after a send is announced again at once (the old demo waited out its throttle).
  await demo.type(`${chat("alice")} textarea`, "A");
  await demo.waitForSelector(`${chat("bob")} .typing:has-text("alice is typing")`, { timeout: 2_000 });
  await demo.fill(`${chat("alice")} textarea[part=input]`, "");

  await demo.click(`${chat("alice")} li.msg:has-text("${hello}") button[data-emoji="👍"]`);
  await demo.waitForSelector(`${chat("bob")} li.msg:has-text("${hello}") button[data-emoji="👍"]:has-text("1")`);
  // alice's widget shows bob's message at the end of a visible list: bob sees it seen.
  await demo.waitForSelector(`${chat("bob")} li.mine:has-text("${hello}") [part=seen]`);

  const url = `https://example.com/${"a-very-long-path-segment-".repeat(12)}?q=${"x".repeat(80)}`;
  await send(demo, "alice", url);
  await demo.waitForSelector(`${chat("bob")} li.msg:has-text("a-very-long-path-segment")`);
  const overflow = await demo.$$eval(`${chat("bob")} .bubble`, (bubbles) =>
    bubbles.filter((b) => b.scrollWidth > b.clientWidth + 1).length,
  );
  assert.equal(overflow, 0, "long words wrap inside their bubble");

  // Keyboard only: from the input, Shift+Tab reaches the last message's toolbar (one stop per message), the
  // arrow keys move inside it, and Space toggles a reaction.
  await demo.focus(`${chat("alice")} textarea`);
  await demo.keyboard.press("Shift+Tab");
  assert.equal(
    await demo.locator(chat("alice")).evaluate((el) => el.shadowRoot.activeElement?.dataset.emoji),
    "👍",
    "the last message's toolbar is one Shift+Tab away",
  );
  await demo.keyboard.press("ArrowRight");
  await demo.keyboard.press("ArrowRight");
  await demo.keyboard.press("Space");
  await demo.waitForSelector(`${chat("bob")} li.msg:has-text("a-very-long-path-segment") button[data-emoji="🎉"]:has-text("1")`);
  assert.deepEqual(errors, []);
});

test("the stack stops and starts mid-conversation: both widgets recover by themselves, the outage's messages arrive once and in order", async () => {
  try {
    await restartMidConversation();
  } finally {
    if (!stack.running) await stack.start(); // the tests after this one need it
  }
});

async function restartMidConversation() {
  const errors = watchErrors(demo);
  await stack.stop();
  await demo.waitForFunction(
    () => [...document.querySelectorAll("booking-chat")].every((c) => c.shadowRoot.querySelector(".status").dataset.state !== "online"),
    null,
    { timeout: 20_000 },
  );
  const tag = Date.now();
  const outage = { alice: [`outage A1 ${tag}`, `outage A2 ${tag}`], bob: [`outage B1 ${tag}`] };
  await send(demo, "alice", outage.alice[0]);
  await send(demo, "bob", outage.bob[0]);
  await send(demo, "alice", outage.alice[1]);
  await demo.waitForSelector(`${chat("alice")} li[data-state=sending]:has-text("${outage.alice[1]}")`);

  // A reload while the stack is down: the outbox is in localStorage, and the token fetch fails until it is back.
  await demo.reload();
  await demo.waitForSelector(`${chat("alice")} li[data-state=sending]:has-text("${outage.alice[1]}")`);
  await demo.waitForSelector(`${chat("bob")} li[data-state=sending]:has-text("${outage.bob[0]}")`);
  assert.equal(await state(demo, "alice"), "reconnecting");

  await new Promise((r) => setTimeout(r, 3_000));
  await stack.start();
  await waitOnline(demo, "alice", 45_000);
  await waitOnline(demo, "bob", 45_000);

  const all = [...outage.alice, ...outage.bob];
  for (const who of ["alice", "bob"]) {
    for (const body of all) await demo.waitForSelector(`${chat(who)} li[data-state=sent]:has-text("${body}")`, { timeout: 20_000 });
  }
  for (const who of ["alice", "bob"]) {
    const bodies = (await messages(demo, who)).map(([body]) => body);
    for (const body of all) assert.equal(bodies.filter((b) => b === body).length, 1, `${who} shows "${body}" once`);
    assert.ok(bodies.indexOf(outage.alice[0]) < bodies.indexOf(outage.alice[1]), `${who} shows alice's in the order written`);
  }
  const inStore = await stored();
  for (const body of all) assert.equal(inStore.filter((b) => b === body).length, 1, `"${body}" is stored exactly once`);
  assert.ok(inStore.indexOf(outage.alice[0]) < inStore.indexOf(outage.alice[1]));
  assert.deepEqual(await demo.evaluate(() => Object.keys(localStorage).filter((k) => localStorage.getItem(k) !== "[]")), []);

  // After the restart the conversation goes on.
  const after = `back again ${tag}`;
  await send(demo, "bob", after);
  await demo.waitForSelector(`${chat("alice")} li.msg:has-text("${after}")`);
  assert.deepEqual(errors, []);
}

test("an expiring token is replaced without the user noticing", async () => {
  const page = await browser.newPage();
  const errors = watchErrors(page);
  const ttl = 16;
  await page.goto(`${site.url}/test/page?w=alice:1:ttl=${ttl}&w=bob:1:ttl=${ttl}`);
  await page.evaluate(() => {
    window.statuses = [];
    document.addEventListener("chat-status", (e) => window.statuses.push(`${e.target.getAttribute("user")}:${e.detail.state}`));
  });
  await waitOnline(page, "alice #1");
  await waitOnline(page, "bob #1");
  await page.evaluate(() => (window.statuses = []));
  const calls = () => site.tokenCalls.filter((c) => c.user === "alice").length;
  const before = calls();
  // Past the first token's expiry (and the server's 1 s leeway), with the socket replaced on the way.
  await new Promise((r) => setTimeout(r, (ttl + 4) * 1000));
  assert.ok(calls() >= before + 1, `alice's widget fetched a fresh token (${calls() - before} times)`);
  assert.deepEqual(await page.evaluate(() => window.statuses), [], "the status never left online");
  const text = `after the token expired ${Date.now()}`;
  await send(page, "alice #1", text);
  await page.waitForSelector(`${chat("bob #1")} li.msg:has-text("${text}")`);
  await page.waitForSelector(`${chat("alice #1")} li[data-state=sent]:has-text("${text}")`);
  assert.deepEqual(errors, []);
  await page.close();
});

test("a refused handshake is handled by its meaning: a forged token is replaced, a non-member is told why and not retried", async () => {
  const page = await browser.newPage();
  await page.goto(`${site.url}/test/page?w=alice:1:forge=first&w=alice:2`);
  await waitOnline(page, "alice #1");
  assert.ok(site.tokenCalls.some((c) => c.user === "alice" && c.forged), "the first token was forged");
  await page.waitForSelector(`${chat("alice #2")} .status[data-state=stopped]`, { timeout: 15_000 });
  assert.equal((await page.textContent(`${chat("alice #2")} .banner span`)).trim(), "You are not a member of this booking.");
  assert.equal(await page.isVisible(`${chat("alice #2")} .banner button`), false, "no Try again: the answer will not change");
  const calls = () => site.tokenCalls.filter((c) => c.booking === "2").length;
  const stopped = calls();
  await new Promise((r) => setTimeout(r, 3_000));
  assert.equal(calls(), stopped, "a stopped widget does not retry");
  await page.close();
});

test("axe-core finds no violations, in light and dark, with sent and failed messages; screenshots at desktop and phone sizes", async () => {
  const dir = join(ARTEFACTS, "screenshots");
  mkdirSync(dir, { recursive: true });
  // A message the server refuses (a control character): it shows as failed, with retry and discard.
  await demo.fill(`${chat("bob")} textarea`, "escape \u001b not allowed");
  await demo.press(`${chat("bob")} textarea`, "Enter");
  await demo.waitForSelector(`${chat("bob")} li[data-state=failed]`);
  for (const scheme of ["light", "dark"]) {
    await demo.emulateMedia({ colorScheme: scheme });
    assert.deepEqual(await axe(demo), [], `no violations (${scheme})`);
    for (const [name, viewport] of [["desktop", { width: 1280, height: 800 }], ["phone", { width: 390, height: 844 }]]) {
      await demo.setViewportSize(viewport);
      await demo.screenshot({ path: join(dir, `demo-${name}-${scheme}.png`), fullPage: true });
    }
  }
  // Right to left: the same widget mirrors.
  await demo.evaluate(() => document.documentElement.setAttribute("dir", "rtl"));
  await demo.screenshot({ path: join(dir, "demo-phone-rtl.png"), fullPage: true });
  assert.deepEqual(await axe(demo), [], "no violations (rtl)");
  await demo.evaluate(() => document.documentElement.removeAttribute("dir"));
  await demo.click(`${chat("bob")} li[data-state=failed] button[data-action=discard]`);
  await demo.waitForFunction(() => !document.querySelector('booking-chat[heading="bob"]').shadowRoot.querySelector("li[data-state=failed]"));
  console.log(`# screenshots in ${dir}`);
});
