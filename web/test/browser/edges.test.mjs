// The edges of a connection, as a person (or the browser) sees them, in real Chromium against chat-dev: how
// often a short token is renewed, and how a failing token endpoint is retried; one user's two tabs sharing an
// outbox, one closing mid-send; a framework re-rendering and moving the element; a refused handshake without
// `api-url`; a token provider saying "signed out". Each test prints what it measured (`# measured: ...`).
//
// Needs CHAT_DEV_BIN (the chat-dev binary) and a built bundle (npm run build); scripts/browser-tests.sh
// provides both.

import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { chromium } from "playwright-core";
import { CHROMIUM_OPTIONS, Stack, startSite, axe } from "./harness.mjs";

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

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const chat = (heading) => `booking-chat[heading="${heading}"]`;
const waitState = (page, heading, state, timeout = 20_000) =>
  page.waitForSelector(`${chat(heading)} .status[data-state=${state}]`, { timeout });
const bodies = (page, heading) =>
  page.$$eval(`${chat(heading)} li.msg`, (items) => items.map((li) => [li.querySelector(".body").textContent, li.dataset.state]));

async function send(page, heading, text) {
  await page.fill(`${chat(heading)} textarea`, text);
  await page.press(`${chat(heading)} textarea`, "Enter");
}

/**
 * Counts, in the page, every WebSocket opened (`window.sockets`) and every frame sent by action
 * (`window.frames`), and records each widget's `chat-status` states (`window.statuses`). With
 * `window.blockSends = true` the page's `send_message` frames are dropped before they leave: a stuck connection.
 */
async function instrument(page) {
  await page.addInitScript(() => {
    window.sockets = 0;
    window.frames = {};
    window.statuses = [];
    window.blockSends = false;
    const Native = window.WebSocket;
    window.WebSocket = class extends Native {
      constructor(...args) {
        super(...args);
        window.sockets++;
      }
      send(text) {
        const action = JSON.parse(text).action;
        if (action === "send_message" && window.blockSends) return;
        window.frames[action] = (window.frames[action] ?? 0) + 1;
        super.send(text);
      }
    };
    document.addEventListener("chat-status", (e) =>
      window.statuses.push(e.detail.reason ? `${e.detail.state}:${e.detail.reason}` : e.detail.state),
    );
  });
}

function watchErrors(page) {
  const errors = [];
  page.on("pageerror", (e) => errors.push(e.message));
  return errors;
}

/** The bodies of booking `booking`'s stored messages, read as `user`. */
async function stored(booking, user) {
  const { token } = await (await fetch(`${stack.backendUrl}/dev/token?user=${user}`)).json();
  const page = await fetch(`${stack.backendUrl}/api/chat/bookings/${booking}/messages?limit=100`, {
    headers: { authorization: `Bearer ${token}` },
  });
  return (await page.json()).messages.map((m) => m.body);
}

test("a 20-s token is renewed at most once per half-life: 24 s online cost 2 or 3 token fetches and refresh frames, not 24", async () => {
  const page = await browser.newPage();
  const errors = watchErrors(page);
  await instrument(page);
  await page.goto(`${site.url}/test/page?w=alice:1:ttl=20`);
  await waitState(page, "alice #1", "online");
  const calls = () => site.tokenCalls.filter((c) => c.user === "alice" && c.booking === "1").length;
  const before = calls();
  await page.evaluate(() => (window.statuses = []));
  await sleep(24_000);
  const fetches = calls() - before;
  const refreshes = await page.evaluate(() => window.frames.refresh ?? 0);
  console.log(`# measured: ${fetches} token fetches and ${refreshes} refresh frames in 24 s with 20-s tokens`);
  assert.ok(fetches >= 2 && fetches <= 3, `renewed once per half-life (10 s): ${fetches} fetches`);
  assert.ok(refreshes >= 2 && refreshes <= 3, `${refreshes} refresh frames`);
  assert.deepEqual(await page.evaluate(() => window.statuses), [], "the status never left online");
  assert.equal(await page.evaluate(() => window.sockets), 1, "one connection all along");
  const text = `after two renewals ${Date.now()}`;
  await send(page, "alice #1", text);
  await page.waitForSelector(`${chat("alice #1")} li[data-state=sent]:has-text("${text}")`);
  assert.deepEqual(errors, []);
  await page.close();
});

test("a failing token endpoint is retried with growing waits: about 8 failed fetches in 24 s, not 42", async () => {
  const page = await browser.newPage();
  await instrument(page);
  // The first token (20 s) is handed out; every fetch after it fails with 503.
  await page.goto(`${site.url}/test/page?w=dave:2:ttl=20%26fail=after1`);
  await waitState(page, "dave #2", "online");
  const start = Date.now();
  await sleep(24_000);
  const calls = site.tokenCalls.filter((c) => c.user === "dave");
  const failed = calls.filter((c) => c.failed).map((c) => c.at - start);
  console.log(`# measured: ${failed.length} failed token fetches in 24 s, at ${failed.map((t) => (t / 1000).toFixed(1)).join(", ")} s`);
  assert.ok(failed.length >= 3 && failed.length <= 12, `${failed.length} failed fetches`);
  // While the connection lives (until its token's exp, whole seconds), the waits double: at least 0.5, 1, 2,
  // 4 s (less 150 ms for the fetches' own time).
  const expiry = (Math.floor(calls[0].at / 1000) + 20) * 1000 - start;
  const renewing = failed.filter((t) => t < expiry);
  const gaps = renewing.slice(1).map((t, i) => t - renewing[i]);
  assert.ok(gaps.length >= 2, `retried while the token lasted: ${renewing.length} fetches`);
  gaps.forEach((gap, i) => assert.ok(gap >= 500 * 2 ** i - 150, `waits grow: ${gaps.join(", ")} ms`));
  // Past expiry the connection was closed and the widget reconnects with its own backoff.
  assert.notEqual(await page.evaluate(() => document.querySelector("booking-chat").client.status.state), "online");
  await page.close();
});

test("one user's two tabs share the outbox: a tab closed while its message is unsent hands it to the other, which delivers it once", async () => {
  const context = await browser.newContext();
  const [a, b] = [await context.newPage(), await context.newPage()];
  const errors = [...watchErrors(a), ...watchErrors(b)];
  await instrument(a);
  await instrument(b);
  for (const page of [a, b]) {
    await page.goto(`${site.url}/test/page?w=carol:2`);
    await waitState(page, "carol #2", "online");
  }
  const tag = Date.now();
  // Tab A's connection is stuck: its message stays "Sending…".
  await a.evaluate(() => (window.blockSends = true));
  await send(a, "carol #2", `from tab A ${tag}`);
  await a.waitForSelector(`${chat("carol #2")} li[data-state=sending]:has-text("from tab A ${tag}")`);
  // Tab B writes and is acknowledged meanwhile (one array per origin: its write replaced A's).
  await send(b, "carol #2", `from tab B ${tag}`);
  await b.waitForSelector(`${chat("carol #2")} li[data-state=sent]:has-text("from tab B ${tag}")`);
  const kept = await b.evaluate(() => Object.keys(localStorage).filter((k) => k.startsWith("booking-chat:outbox:2:carol")).length);
  console.log(`# measured: ${kept} unsent message(s) in storage after tab B's message was acknowledged`);
  assert.equal(kept, 1, "tab A's unsent message is still in storage");
  assert.equal((await bodies(b, "carol #2")).filter(([body]) => body.startsWith("from tab A")).length, 0, "B does not show A's unsent message");

  await a.close();
  await b.waitForSelector(`${chat("carol #2")} li[data-state=sent]:has-text("from tab A ${tag}")`, { timeout: 10_000 });
  const shown = (await bodies(b, "carol #2")).filter(([body]) => body === `from tab A ${tag}`);
  assert.equal(shown.length, 1, "shown once");
  const inStore = await stored(2, "carol");
  assert.equal(inStore.filter((body) => body === `from tab A ${tag}`).length, 1, "stored once");
  assert.deepEqual(await b.evaluate(() => Object.keys(localStorage).filter((k) => k.startsWith("booking-chat:outbox:"))), []);
  assert.deepEqual(errors, []);
  await context.close();
});

test("re-renders and DOM moves keep the client: ten new tokenProviders and two moves open no socket and clear nothing", async () => {
  const page = await browser.newPage();
  const errors = watchErrors(page);
  await instrument(page);
  await page.goto(`${site.url}/test/page?w=bob:1`);
  await waitState(page, "bob #1", "online");
  const hello = `before the re-renders ${Date.now()}`;
  await send(page, "bob #1", hello);
  await page.waitForSelector(`${chat("bob #1")} li[data-state=sent]:has-text("${hello}")`);
  const before = await page.evaluate(() => {
    const el = document.querySelector("booking-chat");
    window.first = el.client;
    window.heard = 0;
    window.first.on("timeline", () => window.heard++);
    window.clientEvents = 0;
    el.addEventListener("chat-client", () => window.clientEvents++);
    window.statuses = [];
    return { rows: el.shadowRoot.querySelectorAll("li.msg").length, sockets: window.sockets };
  });

  await page.evaluate(async () => {
    const el = document.querySelector("booking-chat");
    // A framework's render: a new inline function each time.
    for (let i = 0; i < 10; i++) {
      el.tokenProvider = async () => (await (await fetch("/test/token?user=bob&booking=1")).json()).token;
      await Promise.resolve();
    }
    // Moved to another container and back, as a keyed list reorders.
    const other = document.createElement("section");
    document.querySelector("main").append(other);
    other.append(el);
    await new Promise((r) => setTimeout(r, 50));
    document.querySelector("main > div").append(el);
  });
  await sleep(2_000);
  const afterMoves = await page.evaluate(() => {
    const el = document.querySelector("booking-chat");
    return {
      same: el.client === window.first,
      rows: el.shadowRoot.querySelectorAll("li.msg").length,
      sockets: window.sockets,
      statuses: window.statuses,
      clientEvents: window.clientEvents,
    };
  });
  console.log(`# measured: ${afterMoves.sockets - before.sockets} sockets opened, ${before.rows} -> ${afterMoves.rows} rows, same client: ${afterMoves.same}`);
  assert.equal(afterMoves.sockets, before.sockets, "no new connection");
  assert.equal(afterMoves.same, true, "the client getter returns the same instance");
  assert.equal(afterMoves.rows, before.rows, "the list was not cleared");
  assert.deepEqual(afterMoves.statuses, [], "the status never left online");
  assert.equal(afterMoves.clientEvents, 0, "no chat-client event");
  // The listener on the instance the app holds still hears, through the provider set last.
  const heard = await page.evaluate(() => window.heard);
  const text = `after the re-renders ${Date.now()}`;
  await send(page, "bob #1", text);
  await page.waitForSelector(`${chat("bob #1")} li[data-state=sent]:has-text("${text}")`);
  assert.ok((await page.evaluate(() => window.heard)) > heard, "a listener on the first client still hears");

  // Removed for good, it disconnects; inserted again, the same client comes back online with its messages.
  await page.evaluate(() => {
    window.el = document.querySelector("booking-chat");
    window.el.remove();
  });
  await page.waitForFunction(() => window.first.status.state === "stopped", null, { timeout: 5_000 });
  await page.evaluate(() => document.querySelector("main > div").append(window.el));
  await waitState(page, "bob #1", "online");
  const back = await page.evaluate(() => ({ same: window.el.client === window.first, sockets: window.sockets }));
  assert.deepEqual(back, { same: true, sockets: before.sockets + 1 });
  await page.waitForSelector(`${chat("bob #1")} li[data-state=sent]:has-text("${text}")`);
  assert.deepEqual(errors, []);
  await page.close();
});

test("a refused handshake without api-url ends, after a few tries, in a final state the app and the user can see, with Try again", async () => {
  const page = await browser.newPage();
  await instrument(page);
  // alice is not a member of booking 2; without api-url the widget cannot ask why it was refused.
  await page.goto(`${site.url}/test/page?w=alice:2&noapi=1`);
  const calls = () => site.tokenCalls.filter((c) => c.user === "alice" && c.booking === "2").length;
  await waitState(page, "alice #2", "stopped", 60_000);
  const attempts = await page.evaluate(() => window.sockets);
  console.log(`# measured: stopped after ${attempts} refused handshakes and ${calls()} token fetches`);
  assert.equal(await page.evaluate(() => window.statuses.at(-1)), "stopped:handshake_refused", "chat-status says why");
  assert.equal((await page.textContent(`${chat("alice #2")} .banner span`)).trim(), "The chat could not connect.");
  assert.equal(await page.isVisible(`${chat("alice #2")} .banner button`), true, "a Try again button");
  assert.notEqual(await page.textContent(`${chat("alice #2")} .status`), "Reconnecting…");
  const stopped = calls();
  await sleep(3_000);
  assert.equal(calls(), stopped, "no retry after the final state");
  assert.deepEqual(await axe(page), [], "no axe violations in the refused state");

  await page.click(`${chat("alice #2")} .banner button`);
  assert.equal(
    await page.locator(chat("alice #2")).evaluate((el) => el.shadowRoot.activeElement?.tagName),
    "TEXTAREA",
    "the focus goes to the input as the button hides",
  );
  await page.waitForFunction((n) => window.sockets > n, attempts, { timeout: 5_000 });
  await waitState(page, "alice #2", "stopped", 60_000);
  assert.ok(calls() > stopped, "Try again tries again");
  await page.close();
});

test("a token provider that says signed out (null) closes the connection for good, and reconnect() after signing in connects again", async () => {
  const page = await browser.newPage();
  const errors = watchErrors(page);
  await instrument(page);
  await page.goto(`${site.url}/test/page?w=bob:1:ttl=20`);
  await waitState(page, "bob #1", "online");
  // The app signs the user out: the provider answers null from now on (at the next renewal, about 10 s on).
  await page.evaluate(() => {
    window.signedIn = false;
    window.asked = 0;
    document.querySelector("booking-chat").tokenProvider = async () => {
      window.asked++;
      return window.signedIn ? (await (await fetch("/test/token?user=bob&booking=1&ttl=20")).json()).token : null;
    };
  });
  await waitState(page, "bob #1", "stopped", 20_000);
  assert.equal(await page.evaluate(() => window.statuses.at(-1)), "stopped:signed_out");
  assert.equal((await page.textContent(`${chat("bob #1")} .banner span`)).trim(), "You are signed out.");
  assert.equal(await page.isVisible(`${chat("bob #1")} .banner button`), false, "no Try again: signing in is the app's");
  const asked = await page.evaluate(() => window.asked);
  await sleep(3_000);
  console.log(`# measured: the provider was asked ${asked} time(s) before the stop and ${(await page.evaluate(() => window.asked)) - asked} after`);
  assert.equal(await page.evaluate(() => window.asked), asked, "not asked again");
  assert.deepEqual(await axe(page), [], "no axe violations in the signed-out state");

  const sockets = await page.evaluate(() => window.sockets);
  await page.evaluate(() => {
    window.signedIn = true;
    document.querySelector("booking-chat").client.reconnect();
  });
  await waitState(page, "bob #1", "online");
  assert.equal(await page.evaluate(() => window.sockets), sockets + 1);
  assert.deepEqual(errors, []);
  await page.close();
});
