// The package as an app team uses it, in real Chromium against the local stack: the README's HTML example as
// written (<booking-inbox> and <booking-chat>, with the app's display names); the inbox live over the per-user
// channel (unread counts, a booking created after connecting, a removal, a conversation that sends on the user
// socket); the user's own messages edited and deleted from the keyboard; one Tab stop per message; and the
// React example app (Vite, StrictMode) built here and driven through its hooks and its JSX <booking-chat>,
// with its connections counted. axe-core checks every page. Each test prints what it measured.
//
// Needs CHAT_DEV_BIN and a built bundle (npm run build); scripts/browser-tests.sh provides both.

import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { after, before, test } from "node:test";
import { chromium } from "playwright-core";
import { CHROMIUM_OPTIONS, PEOPLE, Stack, startSite, axe } from "./harness.mjs";

const BIN = process.env.CHAT_DEV_BIN;
const WEB = fileURLToPath(new URL("../..", import.meta.url));
/** The service API's credential in local mode (`LOCAL_SERVICE_TOKEN` in backend/src/config.rs). */
const SERVICE_TOKEN = "local-service-token";
let stack;
let site;
let browser;

before(async () => {
  assert.ok(BIN, "CHAT_DEV_BIN must name the chat-dev binary");
  // The React example is built as an app builds it: Vite, from its sources.
  execFileSync(process.execPath, ["node_modules/vite/bin/vite.js", "build", "examples/react"], { cwd: WEB, stdio: "inherit" });
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

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const chat = (heading) => `booking-chat[heading="${heading}"]`;

/** The marketplace writes a booking (service API): created, or its members changed. */
async function putBooking(id, owner, renter, title = `booking ${id}`) {
  const response = await fetch(`${stack.backendUrl}/api/service/bookings/${id}`, {
    method: "PUT",
    headers: { authorization: `Bearer ${SERVICE_TOKEN}`, "content-type": "application/json" },
    body: JSON.stringify({ owner_id: owner, renter_id: renter, title }),
  });
  assert.ok(response.ok, `PUT booking ${id}: HTTP ${response.status}`);
}

/** A new page that counts its WebSockets (by URL) and collects its errors. */
async function newPage(context = browser) {
  const page = await context.newPage();
  const errors = [];
  page.on("pageerror", (e) => errors.push(e.message));
  await page.addInitScript(() => {
    window.socketUrls = [];
    const Native = window.WebSocket;
    window.WebSocket = class extends Native {
      constructor(url, ...rest) {
        super(url, ...rest);
        window.socketUrls.push(String(url).replace(/^.*\?/, ""));
      }
    };
  });
  return { page, errors };
}

/** A widget page of the harness (`/test/page`), one `<booking-chat>` per `user:booking`. */
async function widgets(...specs) {
  const { page, errors } = await newPage();
  await page.goto(`${site.url}/test/page?${specs.map((s) => `w=${s}`).join("&")}`);
  for (const spec of specs) {
    const [user, booking] = spec.split(":");
    await page.waitForSelector(`${chat(`${user} #${booking}`)} .status[data-state=online]`, { timeout: 20_000 });
  }
  return { page, errors };
}

async function send(page, heading, text) {
  await page.fill(`${chat(heading)} textarea[part=input]`, text);
  await page.press(`${chat(heading)} textarea[part=input]`, "Enter");
  await page.waitForSelector(`${chat(heading)} li[data-state=sent]:has-text("${text}")`);
}

/** The README's HTML example, as written, for `user`. */
async function readmePage(user) {
  const { page, errors } = await newPage(await browser.newContext());
  await page.goto(`${site.url}/test/readme?user=${user}`);
  await page.waitForSelector(`booking-inbox button[data-booking="1"]`, { timeout: 20_000 });
  return { page, errors };
}

/** The inbox's rows as shown: booking id, text, unread count (0 without a badge). */
const inboxRows = (page) =>
  page.$$eval("booking-inbox >> button[data-booking]", (buttons) =>
    buttons.map((b) => ({
      booking: Number(b.dataset.booking),
      text: b.textContent,
      unread: Number(b.querySelector("[part=unread] [aria-hidden]")?.textContent ?? 0),
    })),
  );

async function waitFor(what, check, timeout = 10_000) {
  const start = Date.now();
  for (;;) {
    const value = await check();
    if (value) return Date.now() - start;
    if (Date.now() - start > timeout) assert.fail(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

test("the README's HTML example works as written: the inbox names people, opens the conversation, and the chat shows display names", async () => {
  const alice = await readmePage("alice");
  const row = (await inboxRows(alice.page)).find((r) => r.booking === 1);
  assert.ok(row.text.includes(PEOPLE.bob.name), `the inbox names bob by the app's name: ${row.text}`);
  assert.ok(row.text.includes("Canoe for the weekend"));
  await alice.page.click(`booking-inbox button[data-booking="1"]`);
  await alice.page.waitForSelector("booking-chat:not([hidden]) .status[data-state=online]");
  assert.equal(await alice.page.getAttribute("booking-inbox", "selected"), "1");
  assert.equal(await alice.page.getAttribute(`booking-inbox button[data-booking="1"]`, "aria-current"), "true");

  const bob = await widgets("bob:1");
  const text = `Hello from bob ${Date.now()}`;
  await send(bob.page, "bob #1", text);
  const li = `booking-chat li.msg:has-text("${text}")`;
  await alice.page.waitForSelector(li);
  assert.equal((await alice.page.textContent(`${li} [part=sender]`)).trim(), PEOPLE.bob.name, "the sender's display name");
  await waitFor("the inbox's last message", async () => (await inboxRows(alice.page)).find((r) => r.booking === 1)?.text.includes(text));
  assert.deepEqual(await axe(alice.page), [], "no axe violations on the README example");
  assert.deepEqual([...alice.errors, ...bob.errors], []);
  await alice.page.context().close();
  await bob.page.close();
});

test("the inbox is live over the per-user channel: unread counts, a booking created after it connected, a removal", async () => {
  const alice = await readmePage("alice");
  const sockets = () => alice.page.evaluate(() => window.socketUrls);
  assert.deepEqual(await sockets(), ["type=user"], "one user connection, no chat connection until one is opened");

  // The marketplace creates a booking for alice after her inbox connected: it appears without a reload.
  const created = Date.now();
  await putBooking(201, "alice", "bob", "Kayak, two days");
  const appeared = await waitFor("booking 201 in the inbox", async () => (await inboxRows(alice.page)).some((r) => r.booking === 201));
  console.log(`# measured: a booking created after the inbox connected appeared in it ${Date.now() - created} ms later (${appeared} ms of polling)`);

  // bob writes in it: alice's inbox counts it unread and moves it to the top.
  const bob = await widgets("bob:201");
  await send(bob.page, "bob #201", "Is the kayak waterproof?");
  await send(bob.page, "bob #201", "And the paddles?");
  await waitFor("2 unread", async () => (await inboxRows(alice.page))[0]?.unread === 2);
  const top = (await inboxRows(alice.page))[0];
  assert.equal(top.booking, 201);
  assert.ok(top.text.includes("And the paddles?"));
  assert.ok(top.text.includes("2 unread"), "the badge is named for screen readers");

  // alice opens it: the chat reads it, and the unread count goes to 0 (the user channel's `unread`).
  await alice.page.click(`booking-inbox button[data-booking="201"]`);
  await waitFor("0 unread", async () => (await inboxRows(alice.page))[0]?.unread === 0);

  // The per-user channel's own conversation of a booking sends on the user socket, through its outbox.
  const answer = await alice.page.evaluate(async () => {
    const conversation = document.querySelector("booking-inbox").channel.conversation(201);
    conversation.start();
    const message = await conversation.send("Sent on the user connection");
    return { id: message.id, booking: message.booking_id, sockets: window.socketUrls.length, timeline: conversation.timeline.length };
  });
  assert.equal(answer.booking, 201);
  assert.ok(answer.timeline >= 3, "the conversation has its booking's timeline");
  await bob.page.waitForSelector(`${chat("bob #201")} li.msg:has-text("Sent on the user connection")`);
  assert.deepEqual((await sockets()).sort(), ["booking_id=201", "type=user"], "the conversation opened no socket of its own");

  // alice is removed from the booking: it leaves her inbox, her user connection stays.
  await putBooking(201, "carol", "bob", "Kayak, two days");
  await waitFor("booking 201 gone", async () => !(await inboxRows(alice.page)).some((r) => r.booking === 201));
  assert.deepEqual(await alice.page.evaluate(() => document.querySelector("booking-inbox").channel.status.state), "online");
  assert.deepEqual([...alice.errors, ...bob.errors], []);
  await alice.page.context().close();
  await bob.page.close();
});

test("the inbox's user connection, which cannot be refreshed, is replaced before each 20-s token expires: online throughout, live after", async () => {
  const { page, errors } = await newPage(await browser.newContext());
  await page.goto(`${site.url}/test/readme?user=alice&ttl=20`);
  await page.waitForSelector(`booking-inbox button[data-booking="1"]`, { timeout: 20_000 });
  await page.evaluate(() => {
    window.userStates = [];
    document.querySelector("booking-inbox").channel.on("status", (s) => window.userStates.push(s.state));
  });
  await sleep(25_000); // past the first token's expiry and the server's 1-s leeway
  const sockets = (await page.evaluate(() => window.socketUrls)).filter((u) => u === "type=user").length;
  const states = await page.evaluate(() => window.userStates);
  console.log(`# measured: 25 s with 20-s tokens: ${sockets} user connections, status changes ${JSON.stringify(states)}`);
  assert.ok(sockets >= 2, "a new user connection before the token expired");
  assert.deepEqual(states, [], "the inbox never left online");
  const bob = await widgets("bob:1");
  const text = `After the renewal ${Date.now()}`;
  await send(bob.page, "bob #1", text);
  await waitFor("the inbox, live on the new connection", async () => (await inboxRows(page)).find((r) => r.booking === 1)?.text.includes(text));
  assert.deepEqual([...errors, ...bob.errors], []);
  await page.context().close();
  await bob.page.close();
});

test("own messages: edited and deleted from the keyboard within the window, a refusal said where it happened", async () => {
  await putBooking(202, "alice", "bob");
  const { page, errors } = await widgets("alice:202", "bob:202");
  await send(page, "alice #202", "See you at nine");
  const input = `${chat("alice #202")} textarea[part=input]`;
  const active = () => page.locator(chat("alice #202")).evaluate((el) => {
    const a = el.shadowRoot.activeElement;
    return a ? `${a.localName}:${a.dataset.action ?? a.getAttribute("part")}` : "none";
  });
  // From the input, Shift+Tab reaches the message's toolbar (one stop); End goes to Delete, Left to Edit.
  await page.focus(input);
  await page.keyboard.press("Shift+Tab");
  assert.equal(await active(), "button:react");
  await page.keyboard.press("End");
  assert.equal(await active(), "button:delete");
  await page.keyboard.press("ArrowLeft");
  assert.equal(await active(), "button:edit");
  await page.keyboard.press("Enter");
  assert.equal(await active(), "textarea:editor", "the editor takes the focus");
  await page.keyboard.press("ControlOrMeta+a");
  await page.keyboard.type("See you at ten");
  await page.keyboard.press("Enter");
  await page.waitForSelector(`${chat("bob #202")} li.msg:has-text("See you at ten") .meta:has-text("edited")`);
  assert.equal(await active(), "button:edit", "the focus is back on Edit");

  // A refused edit (a control character) keeps the editor open and says why, in an alert.
  await page.keyboard.press("Enter");
  await page.fill(`${chat("alice #202")} textarea[part=editor]`, "bell \u0007");
  await page.keyboard.press("Enter");
  await page.waitForSelector(`${chat("alice #202")} .editor [role=alert]:has-text("Not saved")`);
  await page.keyboard.press("Escape");
  assert.equal(await active(), "button:edit");

  // Delete asks first, then the message is a tombstone on both sides; the focus goes to the input.
  await page.keyboard.press("ArrowRight");
  await page.keyboard.press("Enter");
  assert.equal(await active(), "button:confirm");
  assert.deepEqual(await axe(page), [], "no axe violations while asking about the delete");
  await page.keyboard.press("Enter");
  await page.waitForSelector(`${chat("bob #202")} li.msg:has-text("Message deleted")`);
  await page.waitForSelector(`${chat("alice #202")} li.msg:has-text("Message deleted")`);
  assert.equal(await active(), "textarea:input");
  // Others' messages and tombstones have no Edit or Delete.
  assert.equal(await page.locator(`${chat("bob #202")} button[data-action=edit]`).count(), 0);
  assert.equal(await page.locator(`${chat("alice #202")} button[data-action=edit]`).count(), 0);
  // A window of 0 (the server's editing turned off) shows no Edit.
  await send(page, "alice #202", "Not editable here");
  assert.equal(await page.locator(`${chat("alice #202")} button[data-action=edit]`).count(), 1);
  await page.evaluate(() => document.querySelector('booking-chat[heading="alice #202"]').setAttribute("edit-window", "0"));
  assert.equal(await page.locator(`${chat("alice #202")} button[data-action=edit]`).count(), 0);
  assert.deepEqual(errors, []);
  await page.close();
});

test("one Tab stop per message: with 13 messages the input is 14 presses from the list, reactions by arrow keys", async () => {
  await putBooking(203, "alice", "bob");
  const { page, errors } = await widgets("alice:203", "bob:203");
  for (let i = 1; i <= 13; i++) await send(page, "bob #203", `message ${i} of 13`);
  await page.waitForSelector(`${chat("alice #203")} li.msg:has-text("message 13 of 13")`);
  await page.focus(`${chat("alice #203")} [part=log]`);
  let presses = 0;
  for (; presses < 100; ) {
    await page.keyboard.press("Tab");
    presses++;
    const part = await page.locator(chat("alice #203")).evaluate((el) => el.shadowRoot.activeElement?.getAttribute("part"));
    if (part === "input") break;
  }
  console.log(`# measured: Tab presses from the message list to the input with 13 messages: ${presses} (one stop per message)`);
  assert.equal(presses, 14);
  // Inside a toolbar: Right moves, Space reacts, and the message keeps one stop (the last one used).
  await page.keyboard.press("Shift+Tab");
  await page.keyboard.press("ArrowRight");
  await page.keyboard.press("Space");
  await page.waitForSelector(`${chat("bob #203")} li.msg:has-text("message 13 of 13") button[data-emoji="❤️"]:has-text("1")`);
  const stops = await page.locator(`${chat("alice #203")} li.msg:has-text("message 13 of 13") [role=toolbar] button[tabindex="0"]`).count();
  assert.equal(stops, 1);
  assert.deepEqual(errors, []);
  await page.close();
});

test("the React example (Vite, StrictMode): one user and one chat connection however often it re-renders; inbox and conversation through the hooks", async () => {
  const alice = await newPage(await browser.newContext());
  await alice.page.goto(`${site.url}/examples/react/?user=alice`);
  await alice.page.waitForSelector(`nav button[data-booking="1"]`, { timeout: 20_000 });
  await alice.page.click(`nav button[data-booking="1"]`);
  await alice.page.waitForSelector(`section [role=status][data-state=online]`, { timeout: 20_000 });
  for (let i = 0; i < 10; i++) await alice.page.click("header button");
  await alice.page.waitForSelector(`header button:has-text("Re-render (10)")`);
  await sleep(1_500); // past the release delay: a client released by a re-render would have closed by now
  const urls = (await alice.page.evaluate(() => window.socketUrls)).sort();
  console.log(`# measured: the React example opened ${urls.length} WebSockets in StrictMode with 10 re-renders: ${urls.join(", ")}`);
  assert.deepEqual(urls, ["booking_id=1", "type=user"]);

  const text = `From the hooks ${Date.now()}`;
  await alice.page.fill("section input[name=text]", text);
  await alice.page.press("section input[name=text]", "Enter");
  await alice.page.waitForSelector(`section li[data-state=sent]:has-text("${text}")`);

  // bob's page renders the conversation as <booking-chat> in JSX (properties and typed events through React 19).
  const bob = await newPage(await browser.newContext());
  const logged = [];
  bob.page.on("console", (m) => logged.push(m.text()));
  await bob.page.goto(`${site.url}/examples/react/?user=bob&ui=element`);
  await bob.page.click(`nav button[data-booking="1"]`);
  await bob.page.waitForSelector(`booking-chat li.msg:has-text("${text}")`, { timeout: 20_000 });
  assert.equal((await bob.page.textContent(`booking-chat li.msg:has-text("${text}") [part=sender]`)).trim(), "Alice", "resolveUser set as a property by React");
  const reply = `From the element ${Date.now()}`;
  await bob.page.fill("booking-chat textarea[part=input]", reply);
  await bob.page.press("booking-chat textarea[part=input]", "Enter");
  await alice.page.waitForSelector(`section li:has-text("${reply}")`);
  // alice has it on screen: read, so her inbox shows nothing unread for booking 1.
  await alice.page.waitForSelector(`nav button[data-booking="1"]:not(:has(.unread))`);
  const text2 = `Again from the hooks ${Date.now()}`;
  await alice.page.fill("section input[name=text]", text2);
  await alice.page.press("section input[name=text]", "Enter");
  await waitFor("the chat-message event in bob's React handler", async () => logged.some((l) => l === `chat-message ${text2}`));

  assert.deepEqual(await axe(alice.page), [], "no axe violations in the React example");
  assert.deepEqual([...alice.errors, ...bob.errors], []);
  await alice.page.context().close();
  await bob.page.context().close();
});

test("the README's React example works as written", async () => {
  const { page, errors } = await newPage(await browser.newContext());
  await page.goto(`${site.url}/examples/react/?page=ten-lines&user=alice&booking=1`);
  const text = `Ten lines ${Date.now()}`;
  await page.fill("input[name=text]", text);
  await page.press("input[name=text]", "Enter");
  await page.waitForSelector(`li:has-text("alice: ${text}")`, { timeout: 20_000 });
  assert.equal(await page.inputValue("input[name=text]"), "", "the form is reset");
  assert.deepEqual(await page.evaluate(() => window.socketUrls), ["booking_id=1"]);
  assert.deepEqual(errors, []);
  await page.context().close();
});
