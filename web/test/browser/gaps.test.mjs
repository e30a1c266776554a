// What the server changes while a widget cannot hear it, in real Chromium against chat-dev: a widget whose page
// went offline comes back showing exactly the server's state of every message it holds (edits, a tombstone, a
// reaction, read receipts made meanwhile); a member the marketplace removes is told so and not retried. Each
// test prints what it measured (`# measured: ...`).
//
// Needs CHAT_DEV_BIN (the chat-dev binary) and a built bundle (npm run build); scripts/browser-tests.sh
// provides both.

import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { chromium } from "playwright-core";
import { CHROMIUM_OPTIONS, Stack, startSite, axe } from "./harness.mjs";

const BIN = process.env.CHAT_DEV_BIN;
/** The service API's credential in local mode (`LOCAL_SERVICE_TOKEN` in backend/src/config.rs). */
const SERVICE_TOKEN = "local-service-token";
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

async function send(page, heading, text) {
  await page.fill(`${chat(heading)} textarea`, text);
  await page.press(`${chat(heading)} textarea`, "Enter");
  await page.waitForSelector(`${chat(heading)} li[data-state=sent]:has-text("${text}")`);
}

/** The marketplace writes a booking (service API): created, or its members changed. */
async function putBooking(id, owner, renter) {
  const response = await fetch(`${stack.backendUrl}/api/service/bookings/${id}`, {
    method: "PUT",
    headers: { authorization: `Bearer ${SERVICE_TOKEN}`, "content-type": "application/json" },
    body: JSON.stringify({ owner_id: owner, renter_id: renter, title: `booking ${id}` }),
  });
  assert.ok(response.ok, `PUT booking ${id}: HTTP ${response.status}`);
}

/** A page with one widget, counting the sockets it opens and recording its `chat-status` states. */
async function widgetPage(context, user, booking) {
  const page = await context.newPage();
  const errors = [];
  page.on("pageerror", (e) => errors.push(e.message));
  await page.addInitScript(() => {
    window.sockets = 0;
    window.statuses = [];
    const Native = window.WebSocket;
    window.WebSocket = class extends Native {
      constructor(...args) {
        super(...args);
        window.sockets++;
      }
    };
    document.addEventListener("chat-status", (e) =>
      window.statuses.push(e.detail.reason ? `${e.detail.state}:${e.detail.reason}` : e.detail.state),
    );
  });
  await page.goto(`${site.url}/test/page?w=${user}:${booking}`);
  await waitState(page, `${user} #${booking}`, "online");
  return { page, errors };
}

/** Each message as a widget shows it: id, text, "edited", reactions, whether it is shown "Seen". */
const shown = (page, heading) =>
  page.$$eval(`${chat(heading)} li.msg`, (items) =>
    items.map((li) => ({
      id: Number(li.dataset.id),
      body: li.querySelector(".body").textContent,
      edited: li.querySelector(".meta").textContent.includes("edited"),
      reactions: [...li.querySelectorAll("[part=reaction]:not(.quick)")].map((b) => b.textContent),
      seen: li.querySelector("[part=seen]") !== null,
    })),
  );

/** The same, from the server's history route (read as `user`): what the widget must show. */
async function serverState(booking, user) {
  const { token } = await (await fetch(`${stack.backendUrl}/dev/token?user=${user}`)).json();
  const answer = await (
    await fetch(`${stack.backendUrl}/api/chat/bookings/${booking}/messages?limit=100`, { headers: { authorization: `Bearer ${token}` } })
  ).json();
  const seenUpTo = Math.max(0, ...answer.read_positions.filter((r) => r.user_id !== user).map((r) => r.last_read_message_id));
  const mine = answer.messages.filter((m) => m.sender_id === user && m.id <= seenUpTo).at(-1);
  return answer.messages.map((m) => ({
    id: m.id,
    body: m.deleted ? "Message deleted" : m.body,
    edited: m.edited_at !== null && !m.deleted,
    reactions: m.reactions.map((r) => `${r.emoji} ${r.count}`),
    seen: m.id === mine?.id,
  }));
}

test("a widget whose page was offline while the other member edited two messages, deleted one, reacted and read comes back showing exactly the server's state", async () => {
  await putBooking(31, "henry", "ines");
  const henryContext = await browser.newContext();
  const inesContext = await browser.newContext();
  const tag = Date.now();
  let henry = await widgetPage(henryContext, "henry", 31);
  const ines = await widgetPage(inesContext, "ines", 31);
  for (const word of ["one", "two", "three", "four"]) await send(henry.page, "henry #31", `${word} ${tag}`);
  await henry.page.close();
  await ines.page.waitForSelector(`${chat("ines #31")} li.msg:has-text("four ${tag}")`);
  await send(ines.page, "ines #31", `from ines ${tag}`);

  // ines's page goes offline. Chromium holds its open socket's frames; the client's ping goes unanswered and it
  // drops the connection (10 s), then waits for the network: whatever was pushed to it meanwhile is lost.
  await inesContext.setOffline(true);
  await waitState(ines.page, "ines #31", "offline");

  // The gap: henry comes back, reads ines's message, edits two of his messages, deletes one, reacts to hers.
  henry = await widgetPage(henryContext, "henry", 31);
  const ids = await henry.page.evaluate(() =>
    Object.fromEntries(document.querySelector("booking-chat").client.timeline.map((m) => [m.body.split(" ")[0], m.id])),
  );
  await henry.page.evaluate(
    ({ ids, tag }) => {
      const client = document.querySelector("booking-chat").client;
      client.edit(ids.one, `one, edited ${tag}`);
      client.edit(ids.two, `two, edited ${tag}`);
      client.remove(ids.three);
      client.react(ids.from, "👍");
    },
    { ids, tag },
  );
  await henry.page.waitForSelector(`${chat("henry #31")} li.msg:has-text("two, edited ${tag}")`);
  await henry.page.waitForSelector(`${chat("henry #31")} li.msg:has-text("Message deleted")`);
  await henry.page.waitForSelector(`${chat("henry #31")} li.msg:has-text("from ines") button[data-emoji="👍"]:has-text("1")`);
  const expected = await serverState(31, "ines");
  assert.equal(expected.filter((m) => m.edited).length, 2, "the server has the two edits");
  assert.ok(expected.at(-1).seen, "the server has henry's read position");

  // ines's page is back online: the widget reconnects by itself and resumes.
  await inesContext.setOffline(false);
  await waitState(ines.page, "ines #31", "online");
  // Given 5 s to converge (a resume is one round trip).
  let got = await shown(ines.page, "ines #31");
  for (let waited = 0; waited < 5_000 && JSON.stringify(got) !== JSON.stringify(expected); waited += 100) {
    await sleep(100);
    got = await shown(ines.page, "ines #31");
  }
  const same = (key) => got.filter((m, i) => JSON.stringify(m[key]) === JSON.stringify(expected[i]?.[key])).length;
  console.log(
    `# measured: after the gap ines's widget shows ${got.length}/${expected.length} messages; as the server has them: ` +
      `text ${same("body")}/${expected.length}, edited ${same("edited")}/${expected.length}, ` +
      `reactions ${same("reactions")}/${expected.length}, seen ${same("seen")}/${expected.length}`,
  );
  assert.deepEqual(got, expected, "ines's widget shows exactly the server's state");
  assert.deepEqual([...henry.errors, ...ines.errors], []);
  await henryContext.close();
  await inesContext.close();
});

test("a member the marketplace removes is told so at once and not retried: no reconnect, no Try again", async () => {
  await putBooking(32, "kim", "lee");
  const context = await browser.newContext();
  const { page, errors } = await widgetPage(context, "lee", 32);
  const calls = () => site.tokenCalls.filter((c) => c.user === "lee").length;
  const before = { sockets: await page.evaluate(() => window.sockets), tokens: calls() };
  await page.evaluate(() => (window.statuses = []));

  const removedAt = Date.now();
  await putBooking(32, "kim", "max"); // lee is no longer the renter
  await waitState(page, "lee #32", "stopped", 10_000);
  const stoppedAfter = Date.now() - removedAt;
  await sleep(3_000);
  const statuses = await page.evaluate(() => window.statuses);
  const sockets = (await page.evaluate(() => window.sockets)) - before.sockets;
  console.log(
    `# measured: stopped ${stoppedAfter} ms after the removal, statuses ${statuses.join(" > ")}, ` +
      `${sockets} socket(s) and ${calls() - before.tokens} token fetch(es) after it`,
  );
  assert.equal(statuses.at(-1), "stopped:removed", "chat-status says why");
  assert.equal(sockets, 0, "no reconnect attempt");
  assert.equal((await page.textContent(`${chat("lee #32")} .banner span`)).trim(), "You are no longer a member of this booking.");
  assert.equal(await page.isVisible(`${chat("lee #32")} .banner button`), false, "no Try again");
  assert.equal(await page.isDisabled(`${chat("lee #32")} textarea`), true, "nothing more can be written");
  assert.deepEqual(await axe(page), [], "no axe violations in the removed state");
  assert.deepEqual(errors, []);
  await context.close();
});
