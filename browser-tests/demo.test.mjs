// The demo page in a real browser, through the API Gateway emulator and the Lambda: two panes (alice and
// bob on booking 1) connect with the subprotocol token, chat both ways, see typing and reactions.
// Needs CHAT_DEMO_URL (the backend serving the page); scripts/browser-tests.sh starts the stack.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { chromium } from "playwright-core";

const DEMO_URL = process.env.CHAT_DEMO_URL;
const CHROMIUM = process.env.CHROMIUM_PATH || "/usr/bin/chromium";
let browser;

before(async () => {
  assert.ok(DEMO_URL, "CHAT_DEMO_URL must point at the stack's backend");
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
      "--disable-component-update", "--disable-sync"],
  });
});

after(async () => browser && browser.close());

const pane = (user) => `section[data-user="${user}"]`;

test("the two panes chat through the emulator in both directions", async () => {
  const page = await browser.newPage();
  const errors = [];
  page.on("pageerror", (e) => errors.push(e.message));
  await page.goto(DEMO_URL);
  await page.waitForSelector(`${pane("alice")} .status.open`, { timeout: 15000 });
  await page.waitForSelector(`${pane("bob")} .status.open`, { timeout: 15000 });
  assert.match(await page.textContent("#ws-base"), /\/local\?booking_id=1$/, "the page uses the emulator");

  const hello = `Is the canoe free on Saturday? ${Date.now()}`;
  await page.fill(`${pane("bob")} input`, hello);
  await page.click(`${pane("bob")} button:has-text("Send")`);
  await page.waitForSelector(`${pane("alice")} li:has-text("${hello}")`, { timeout: 10000 });
  await page.waitForSelector(`${pane("bob")} li.mine:has-text("${hello}")`, { timeout: 10000 });

  await page.fill(`${pane("alice")} input`, "Y");
  await page.waitForSelector(`${pane("bob")} .typing:has-text("alice is typing")`, { timeout: 10000 });
  const reply = `Yes, see you at 9. ${Date.now()}`;
  await page.fill(`${pane("alice")} input`, reply);
  await page.click(`${pane("alice")} button:has-text("Send")`);
  await page.waitForSelector(`${pane("bob")} li:has-text("${reply}")`, { timeout: 10000 });

  // A reaction from alice shows its count in bob's pane.
  await page.click(`${pane("alice")} li:has-text("${hello}") .reactions button >> nth=0`);
  await page.waitForFunction(
    ([selector, text]) => [...document.querySelectorAll(selector)]
      .some((li) => li.textContent.includes(text) && /\b1\b/.test(li.querySelector(".reactions").textContent)),
    [`${pane("bob")} li`, hello],
    { timeout: 10000 },
  );
  assert.deepEqual(errors, [], "no script errors on the page");
  await page.close();
});

test("a pane that reconnects catches up with sync", async () => {
  const page = await browser.newPage();
  await page.goto(DEMO_URL + "?users=bob");
  await page.waitForSelector(`${pane("bob")} .status.open`, { timeout: 15000 });
  const earlier = await page.$$eval(`${pane("bob")} li`, (items) => items.length);
  assert.ok(earlier >= 2, "history from the first test arrives on open");
  await page.close();
});
