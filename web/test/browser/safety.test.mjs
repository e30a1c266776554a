// Trust and safety in `<booking-chat>`, in real Chromium against the local stack (chat-dev): contact details
// hidden from a message before the booking is confirmed (chat-dev masks them: the sender is told, the other
// member sees the placeholders); and what chat-dev cannot say yet (issue 23's `chat_state` and
// `report_received` frames, the `block`, `unblock` and `report` actions, the BLOCKED and CHAT_CLOSED refusals, a
// message the marketplace removed), scripted on the page's WebSockets with Playwright's `routeWebSocket`: every
// widget's socket still goes to chat-dev, frames pass both ways, and the test adds server frames and answers
// the new actions itself (the wire contract of docs/protocol.md). Shown: the read-only and blocked lines, the
// composer disabled, Block and Unblock with the focus following, Report with a reason, the refusals shown as the
// chat state (no chat-error), the removal's reason; axe-core on each state; screenshots in web/test-results/.
//
// Needs CHAT_DEV_BIN and a built bundle (npm run build); scripts/browser-tests.sh provides both.

import assert from "node:assert/strict";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { chromium } from "playwright-core";
import { ARTEFACTS, CHROMIUM_OPTIONS, Stack, axe, startSite } from "./harness.mjs";

const BIN = process.env.CHAT_DEV_BIN;
/** The service API's credential in local mode (`LOCAL_SERVICE_TOKEN` in backend/src/config.rs). */
const SERVICE_TOKEN = "local-service-token";
const SHOTS = join(ARTEFACTS, "screenshots");
let stack;
let site;
let browser;

before(async () => {
  assert.ok(BIN, "CHAT_DEV_BIN must name the chat-dev binary");
  stack = new Stack(BIN);
  await stack.start();
  site = await startSite(stack);
  browser = await chromium.launch(CHROMIUM_OPTIONS);
  mkdirSync(SHOTS, { recursive: true });
});

after(async () => {
  await browser?.close();
  await site?.close();
  if (stack) {
    if (process.exitCode) console.log(`--- chat-dev log ---\n${stack.log}`);
    await stack.dispose();
  }
});

const chat = (heading) => `booking-chat[heading="${heading}"]`;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** The marketplace creates a booking (service API): `requested`, so contact details are masked. */
async function putBooking(id, owner, renter) {
  const response = await fetch(`${stack.backendUrl}/api/service/bookings/${id}`, {
    method: "PUT",
    headers: { authorization: `Bearer ${SERVICE_TOKEN}`, "content-type": "application/json" },
    body: JSON.stringify({ owner_id: owner, renter_id: renter, title: `booking ${id}` }),
  });
  assert.ok(response.ok, `PUT booking ${id}: HTTP ${response.status}`);
}

/** The user a widget's socket is for: the `sub` of the token in its `bearer.` subprotocol. */
const userOf = (protocols) => {
  const token = protocols.find((p) => p.startsWith("bearer."))?.slice("bearer.".length) ?? "";
  return JSON.parse(Buffer.from(token.split(".")[1], "base64url").toString()).sub;
};

/**
 * Routes the page's WebSockets through the test: each goes to chat-dev and frames pass both ways, but a client
 * frame whose action `answers` has a function is answered by it (`(frame, user) => ...`) instead of reaching
 * chat-dev, unless it returns `false`. Returns `push(user, frame)`, which sends a server frame to the user's
 * latest socket, and `sent`, every client frame with its user.
 */
async function scripted(page, answers) {
  const latest = new Map();
  const sent = [];
  await page.routeWebSocket(/\/local\?/, (ws) => {
    const user = userOf(ws.protocols());
    latest.set(user, ws);
    const server = ws.connectToServer();
    ws.onMessage((text) => {
      const frame = JSON.parse(String(text));
      sent.push({ user, frame });
      const answer = answers[frame.action];
      if (!answer || answer(frame, user) === false) server.send(text);
    });
    server.onMessage((text) => ws.send(text));
  });
  const push = (user, frame) => latest.get(user).send(JSON.stringify({ timestamp: Date.now(), ...frame }));
  return { push, sent };
}

/** A page of widgets (`user:booking` each), online; its errors and the chat-state and chat-error events. */
async function widgets(specs, answers) {
  const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  const errors = [];
  page.on("pageerror", (e) => errors.push(e.message));
  const route = answers ? await scripted(page, answers) : undefined;
  await page.addInitScript(() => {
    window.events = [];
    for (const name of ["chat-state", "chat-error"]) {
      document.addEventListener(name, (e) => window.events.push([e.target.getAttribute("heading"), name, e.detail]));
    }
  });
  await page.goto(`${site.url}/test/page?${specs.map((s) => `w=${s}`).join("&")}`);
  for (const spec of specs) {
    const [user, booking] = spec.split(":");
    await page.waitForSelector(`${chat(`${user} #${booking}`)} .status[data-state=online]`, { timeout: 20_000 });
  }
  return { page, errors, ...route };
}

const text = (page, selector) => page.locator(selector).evaluate((el) => el.textContent);
const disabled = (page, selector) => page.locator(selector).evaluate((el) => el.disabled);
/** What has the focus inside a widget: `tag:part`. */
const focused = (page, heading) =>
  page.locator(chat(heading)).evaluate((el) => {
    const a = el.shadowRoot.activeElement;
    return a ? `${a.localName}:${a.getAttribute("part")}` : "none";
  });
const events = (page, name) => page.evaluate((n) => window.events.filter(([, e]) => e === n), name);

async function send(page, heading, body) {
  await page.fill(`${chat(heading)} textarea[part=input]`, body);
  await page.press(`${chat(heading)} textarea[part=input]`, "Enter");
}

test("contact details hidden by chat-dev: the sender is told (role=status) until they write again; the other member sees the placeholders", async () => {
  await putBooking(301, "alice", "bob");
  const { page, errors } = await widgets(["alice:301", "bob:301"]);
  await send(page, "alice #301", "Call me on +44 20 7946 0958 or write to ann@example.com");
  const notice = `${chat("alice #301")} [part=notice]`;
  await page.waitForSelector(`${notice}:has-text("Contact details are hidden until the booking is confirmed.")`);
  assert.equal(await page.locator(notice).getAttribute("role"), "status");
  // Stored and shown masked on both sides; only the sender is told.
  await page.waitForSelector(`${chat("bob #301")} li.msg:has-text("hidden until the booking is confirmed")`);
  const mine = await text(page, `${chat("alice #301")} li.mine .body`);
  assert.doesNotMatch(mine, /7946|ann@example/);
  assert.equal(await text(page, `${chat("bob #301")} [part=notice]`), "");
  console.log(`# measured: the sender's copy reads ${JSON.stringify(mine)}`);
  assert.deepEqual(await axe(page), [], "no axe violations with the notice shown");
  await page.screenshot({ path: join(SHOTS, "safety-masked.png") });
  // A message without details after it: still sent as written; the notice goes when the user writes again.
  await page.type(`${chat("alice #301")} textarea[part=input]`, "S");
  assert.equal(await text(page, notice), "");
  assert.deepEqual(errors, []);
  await page.close();
});

test("the chat state (scripted chat_state frames): read-only with and without a note, the date it becomes so, blocked; the composer follows", async () => {
  await putBooking(302, "alice", "bob");
  const { page, errors, push } = await widgets(["alice:302", "bob:302"], {});
  await send(page, "bob #302", "Hello from bob");
  const bobsMessage = `${chat("alice #302")} li.msg:has-text("Hello from bob")`;
  await page.waitForSelector(bobsMessage);
  await page.click(`${bobsMessage} button[data-emoji="👍"]`);
  await page.waitForSelector(`${bobsMessage} button[data-emoji="👍"]:has-text("1")`);
  const line = `${chat("alice #302")} [part=chat-state]`;
  const input = `${chat("alice #302")} textarea[part=input]`;
  const state = (extra) => ({ type: "chat_state", booking_id: 302, writable: true, closed: null, read_only_at: null, blocks: [], ...extra });

  // The booking ended: read-only, said why; history stays, reactions show but cannot be toggled; Report stays.
  push("alice", state({ writable: false, closed: { reason: "ended", at: Date.now(), note: null }, read_only_at: Date.now() }));
  await page.waitForSelector(`${line}:has-text("This booking has ended; the conversation is read-only.")`);
  assert.equal(await page.locator(line).getAttribute("role"), "status");
  assert.equal(await disabled(page, input), true);
  assert.equal(await disabled(page, `${chat("alice #302")} button[part=send]`), true);
  assert.equal(await disabled(page, `${bobsMessage} button[data-emoji="👍"]`), true);
  assert.equal(await page.locator(`${bobsMessage} button[data-emoji="🎉"]`).count(), 0, "no reaction to add");
  assert.equal(await page.locator(`${bobsMessage} button[data-action=report]`).count(), 1);
  assert.equal(await disabled(page, `${chat("bob #302")} textarea[part=input]`), false, "only alice was told");
  assert.deepEqual(await axe(page), [], "no axe violations, read-only");
  await page.screenshot({ path: join(SHOTS, "safety-read-only.png") });
  // chat-dev's history carries each widget's chat state first (writable, no blocks); then the pushed one.
  const [heading, , detail] = (await events(page, "chat-state")).find(([, , d]) => d.closed?.reason === "ended");
  assert.equal(heading, "alice #302");
  assert.equal(detail.closed.reason, "ended");

  // Closed by the marketplace, with its note.
  push("alice", state({ writable: false, closed: { reason: "moderator", at: Date.now(), note: "Closed while we look into a report." } }));
  await page.waitForSelector(`${line}:has-text("This conversation is closed.Closed while we look into a report.")`);

  // Reopened, to become read-only in two days: said, and writable.
  const at = Date.now() + 2 * 86_400_000;
  push("alice", state({ read_only_at: at }));
  await page.waitForSelector(`${line}:has-text("This conversation becomes read-only on")`);
  assert.equal(await disabled(page, input), false);
  assert.equal(await disabled(page, `${bobsMessage} button[data-emoji="👍"]`), false);
  const said = await text(page, line);
  assert.ok(said.includes(String(new Date(at).getFullYear())), said);

  // bob blocked alice.
  push("alice", state({ blocks: [{ user_id: "bob", blocked_user_id: "alice", at: Date.now() }] }));
  await page.waitForSelector(`${line}:has-text("You can't send messages in this conversation.")`);
  assert.equal(await disabled(page, input), true);
  assert.deepEqual(await axe(page), [], "no axe violations, blocked");

  // Lifted: nothing to say, the composer back.
  push("alice", state({}));
  await page.waitForSelector(`${line}:empty`, { state: "attached" });
  await page.waitForSelector(`${input}:enabled`);
  console.log(`# measured: ${(await events(page, "chat-state")).length} chat-state events for 5 frames`);
  assert.deepEqual(errors, []);
  await page.close();
});

test("Block and Unblock (scripted answers): the blocker is told with an Unblock button, the blocked member cannot write, the focus follows", async () => {
  await putBooking(303, "alice", "bob");
  const block = { user_id: "alice", blocked_user_id: "bob", at: Date.now() };
  const view = (blocks) => ({ type: "chat_state", booking_id: 303, writable: true, closed: null, read_only_at: null, blocks });
  // The server's answer: chat_state to every connection of the booking, the caller's naming its request (block),
  // or none (unblock: a broadcast only).
  const { page, errors, push, sent } = await widgets(["alice:303", "bob:303"], {
    block: (frame) => {
      push("alice", { ...view([block]), request_id: String(frame.request_id) });
      push("bob", view([block]));
    },
    unblock: () => {
      push("alice", view([]));
      push("bob", view([]));
    },
  });
  const alice = chat("alice #303");
  await page.click(`${alice} button[part=block]`);
  await page.waitForSelector(`${alice} [part=chat-state]:has-text("You blocked this member.") button[part=unblock]`);
  assert.deepEqual(sent.filter((s) => s.frame.action === "block").map((s) => [s.user, Object.keys(s.frame).sort()]), [["alice", ["action", "request_id"]]]);
  assert.equal(await focused(page, "alice #303"), "button:unblock", "the focus moves to Unblock");
  assert.equal(await page.locator(`${alice} button[part=block]`).isHidden(), true);
  assert.equal(await disabled(page, `${alice} textarea[part=input]`), false, "the blocker may still write");
  await page.waitForSelector(`${chat("bob #303")} [part=chat-state]:has-text("You can't send messages in this conversation.")`);
  assert.equal(await disabled(page, `${chat("bob #303")} textarea[part=input]`), true);
  assert.deepEqual(await axe(page), [], "no axe violations with Unblock shown");
  await page.screenshot({ path: join(SHOTS, "safety-blocked.png") });

  await page.keyboard.press("Enter");
  await page.waitForSelector(`${alice} button[part=block]:visible`);
  assert.equal(await focused(page, "alice #303"), "button:block", "the focus goes back to Block");
  assert.equal(await text(page, `${alice} [part=chat-state]`), "");
  await page.waitForSelector(`${chat("bob #303")} textarea[part=input]:enabled`);
  assert.deepEqual(sent.filter((s) => s.frame.action === "unblock").map((s) => s.user), ["alice"]);
  assert.deepEqual(errors, []);
  await page.close();
});

test("Report a message (scripted report_received): a reason in place, the report's id told, the message kept; Escape leaves", async () => {
  await putBooking(304, "alice", "bob");
  const { page, errors, push, sent } = await widgets(["alice:304", "bob:304"], {
    report: (frame) => push("alice", { type: "report_received", booking_id: 304, report_id: "rep-7", request_id: String(frame.request_id) }),
  });
  await send(page, "bob #304", "Pay me by bank transfer instead");
  const message = `${chat("alice #304")} li.msg:has-text("Pay me by bank transfer instead")`;
  await page.waitForSelector(message);
  // bob's own message has no Report; alice's copy of it has.
  assert.equal(await page.locator(`${chat("bob #304")} button[data-action=report]`).count(), 0);
  await page.click(`${message} button[data-action=report]`);
  await page.waitForSelector(`${message} .editor:has-text("Why report it?")`);
  assert.equal(await focused(page, "alice #304"), "button:confirm", "the first reason takes the focus");
  const reasons = await page.$$eval(`${message} [data-reason]`, (b) => b.map((x) => `${x.dataset.reason}:${x.textContent}`));
  assert.deepEqual(reasons, ["spam:Spam", "scam:Scam", "harassment:Harassment", "off_platform:Off-platform contact", "inappropriate:Inappropriate", "other:Other"]);
  assert.ok((await text(page, `${message} .editor`)).includes("Pay me by bank transfer instead"), "the message stays in view");
  assert.deepEqual(await axe(page), [], "no axe violations while reporting");
  await page.screenshot({ path: join(SHOTS, "safety-report.png") });
  await page.keyboard.press("Escape");
  await page.waitForSelector(`${message} .editor`, { state: "detached" });
  assert.equal(await focused(page, "alice #304"), "button:report", "Escape goes back to Report");

  await page.keyboard.press("Enter");
  await page.click(`${message} [data-reason=off_platform]`);
  await page.waitForSelector(`${chat("alice #304")} [part=notice]:has-text("Thank you: report rep-7 received.")`);
  const id = Number(await page.locator(message).getAttribute("data-id"));
  assert.deepEqual(sent.filter((s) => s.frame.action === "report").map((s) => [s.user, s.frame.data]), [["alice", { reason: "off_platform", message_id: id }]]);
  assert.equal(await page.locator(`${message} .editor`).count(), 0);
  assert.equal(await focused(page, "alice #304"), "textarea:input");
  assert.deepEqual(errors, []);
  await page.close();
});

test("BLOCKED and CHAT_CLOSED refusals (scripted) show as the chat state, not as errors; a refused message is Not sent until Retry", async () => {
  await putBooking(305, "alice", "bob");
  let refuse = "BLOCKED";
  // alice's messages and reactions are refused with `refuse` while it is set; everything else goes to chat-dev.
  const refuseAlice = (frame, user) =>
    user === "alice" && refuse ? push(user, { type: "error", error: { code: refuse, message: "refused" }, request_id: String(frame.request_id) }) : false;
  const { page, errors, push, sent } = await widgets(["alice:305", "bob:305"], { send_message: refuseAlice, react: refuseAlice });
  const alice = chat("alice #305");
  await send(page, "alice #305", "Are you there?");
  await page.waitForSelector(`${alice} li.msg[data-state=failed]:has-text("Are you there?"):has-text("Not sent")`);
  await page.waitForSelector(`${alice} [part=chat-state]:has-text("You can't send messages in this conversation.")`);
  assert.equal(await disabled(page, `${alice} textarea[part=input]`), true);
  await sleep(2_000);
  assert.equal(sent.filter((s) => s.frame.action === "send_message").length, 1, "refused for good: not sent again");

  // The server lifts it (chat_state): Retry delivers the message.
  refuse = "";
  push("alice", { type: "chat_state", booking_id: 305, writable: true, closed: null, read_only_at: null, blocks: [] });
  await page.waitForSelector(`${alice} textarea[part=input]:enabled`);
  await page.click(`${alice} button[data-action=retry]`);
  await page.waitForSelector(`${chat("bob #305")} li.msg:has-text("Are you there?")`);

  // A reaction refused with CHAT_CLOSED: read-only for the widget until the server says more.
  await send(page, "bob #305", "Still here");
  await page.waitForSelector(`${alice} li.msg:has-text("Still here")`);
  refuse = "CHAT_CLOSED";
  await page.click(`${alice} li.msg:has-text("Still here") button[data-emoji="🎉"]`);
  await page.waitForSelector(`${alice} [part=chat-state]:has-text("This conversation is closed.")`);
  assert.equal(await disabled(page, `${alice} textarea[part=input]`), true);
  assert.deepEqual(await events(page, "chat-error"), [], "no chat-error for BLOCKED or CHAT_CLOSED");
  // chat-dev's history gives each widget its state first (writable, no blocks); then the refusals' and the push.
  const states = (await events(page, "chat-state")).map(([h, , d]) => [h, d.writable, d.blocks.length]);
  const fromHistory = states.slice(0, -3);
  assert.deepEqual(fromHistory.map(([h]) => h).sort(), ["alice #305", "bob #305"], JSON.stringify(states));
  assert.ok(fromHistory.every(([, writable, blocks]) => writable && blocks === 0), JSON.stringify(states));
  assert.deepEqual(states.slice(-3), [
    ["alice #305", true, 1],
    ["alice #305", true, 0],
    ["alice #305", false, 0],
  ]);
  assert.deepEqual(errors, []);
  await page.close();
});

test("a message the marketplace removed (a scripted message_updated with moderation) says so and why", async () => {
  await putBooking(306, "alice", "bob");
  const { page, errors, push } = await widgets(["alice:306", "bob:306"], {});
  await send(page, "bob #306", "Send the deposit to my own account");
  const message = `${chat("alice #306")} li.msg:has-text("Send the deposit to my own account")`;
  await page.waitForSelector(message);
  const id = Number(await page.locator(message).getAttribute("data-id"));
  // The message as stored (the timeline's copy without what the client adds).
  const original = await page.locator(chat("alice #306")).evaluate((el, id) => {
    const { key: _key, state: _state, mine: _mine, ...m } = el.client.timeline.find((x) => x.id === id);
    return m;
  }, id);
  const moderation = { reason: "Payment outside the marketplace", at: Date.now() };
  push("alice", { type: "message_updated", booking_id: 306, message: { ...original, body: "", reactions: [], deleted: true, moderation } });
  const removed = `${chat("alice #306")} li.msg[data-id="${id}"]`;
  await page.waitForSelector(`${removed}:has-text("Removed by the marketplace: Payment outside the marketplace")`);
  assert.equal(await page.locator(`${removed} [role=toolbar] button`).count(), 0, "nothing to react to or report");
  assert.deepEqual(await axe(page), []);
  assert.deepEqual(errors, []);
  await page.close();
});
