// Web Push in real Chromium: the README's "Notify me" example, as written, with the built `push.js` and the
// real service worker (`booking-chat-sw.js`, served from the page's origin as the README says). Nothing is
// asked before the click; the click registers the worker and sends the subscription; DevTools delivers a push
// to the worker, which shows it (silent while the booking's page is focused); "Stop notifications" removes it.
// Without the permission granted, the click is refused (headless Chromium denies prompts) and nothing is sent.
//
// Self-contained: no chat-dev. A small Node server on 127.0.0.1 (a port chosen at run time) serves the page,
// `dist/` and a token; the API (`/api/chat/notifications/push`) is faked with `page.route`. Headless
// Chromium here has no push service (no network, no Google services), so `PushManager.prototype.subscribe`
// and `getSubscription` are stubbed in the page with a fake subscription: delivery through a real push service
// is not tested here (the Rust side tests that a payload decrypts with the subscriber's keys).
//
// Needs a built bundle (npm run build).

import assert from "node:assert/strict";
import { createECDH } from "node:crypto";
import { createReadStream, existsSync, readFileSync } from "node:fs";
import { createServer } from "node:http";
import { join, normalize } from "node:path";
import { fileURLToPath } from "node:url";
import { after, before, test } from "node:test";
import { chromium } from "playwright-core";
import { CHROMIUM_OPTIONS } from "./harness.mjs";

const WEB = fileURLToPath(new URL("../..", import.meta.url));
/** The VAPID public key the fake API hands out: a real uncompressed P-256 point, base64url. */
const PUBLIC_KEY = createECDH("prime256v1").generateKeys().toString("base64url");
const TOKEN = "jwt-alice";

/** The README's Web Push example (the html block under its heading), as written. */
function readmePushExample() {
  const readme = readFileSync(join(WEB, "README.md"), "utf8");
  const section = readme.slice(readme.indexOf("## Notifications on the phone and desktop (Web Push)"));
  const block = /```html\n([\s\S]*?)\n```/.exec(section);
  assert.ok(block, 'no html block under "## Notifications on the phone and desktop (Web Push)" in web/README.md');
  return block[1];
}

let server;
let origin;
let browser;

before(async () => {
  assert.ok(existsSync(join(WEB, "dist/push.js")) && existsSync(join(WEB, "dist/booking-chat-sw.js")), "run npm run build first");
  server = createServer((req, res) => {
    const url = new URL(req.url, "http://site");
    if (url.pathname === "/bookings/42") {
      // The page a notification links to; the README's example on it, so that it is a page of the app.
      const html = readmePushExample().replaceAll("https://api.example.com", origin);
      const imports = { "@booking-chat/widget/push": "/dist/push.js" };
      res.writeHead(200, { "content-type": "text/html; charset=utf-8" });
      res.end(`<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Booking 42</title>
        <script type="importmap">${JSON.stringify({ imports })}</script></head><body><main><h1>Booking 42</h1>${html}</main></body></html>`);
      return;
    }
    if (url.pathname === "/session/chat-token") {
      res.writeHead(200, { "content-type": "application/json", "cache-control": "no-store" }).end(JSON.stringify({ token: TOKEN }));
      return;
    }
    // The worker at the origin's root, as the README asks; the rest of dist/ under /dist/.
    const path = url.pathname === "/booking-chat-sw.js" ? "/dist/booking-chat-sw.js" : url.pathname;
    const file = normalize(join(WEB, path));
    if (!path.startsWith("/dist/") || !file.startsWith(WEB) || !existsSync(file)) return void res.writeHead(404).end();
    res.writeHead(200, { "content-type": file.endsWith(".js") ? "text/javascript" : "application/json" });
    createReadStream(file).pipe(res);
  });
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  origin = `http://127.0.0.1:${server.address().port}`;
  browser = await chromium.launch(CHROMIUM_OPTIONS);
});

after(async () => {
  await browser?.close();
  await new Promise((resolve) => (server ? server.close(resolve) : resolve()));
});

/**
 * A page with `PushManager` stubbed (`window.pushLog`: permission requests, subscribe calls, unsubscribes) and
 * the API faked (`api.requests`, each `{method, url, authorization, body}`; `api.endpoints`, what it holds).
 */
async function open(context) {
  const page = await context.newPage();
  const errors = [];
  page.on("pageerror", (e) => errors.push(e.message));
  await page.addInitScript(() => {
    window.pushLog = { requestPermission: 0, subscribe: [], unsubscribe: [] };
    const ask = Notification.requestPermission.bind(Notification);
    Notification.requestPermission = (...args) => {
      window.pushLog.requestPermission++;
      return ask(...args);
    };
    let current = null;
    const b64url = (bytes) => btoa(String.fromCharCode(...bytes)).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
    PushManager.prototype.subscribe = async function (options) {
      const key = new Uint8Array(options.applicationServerKey).slice();
      window.pushLog.subscribe.push({ userVisibleOnly: options.userVisibleOnly, key: b64url(key) });
      const endpoint = `https://fcm.googleapis.com/fcm/send/fake-${crypto.randomUUID()}`;
      const keys = { p256dh: b64url(crypto.getRandomValues(new Uint8Array(65))), auth: b64url(crypto.getRandomValues(new Uint8Array(16))) };
      current = {
        endpoint,
        expirationTime: null,
        options: { userVisibleOnly: true, applicationServerKey: key.buffer },
        toJSON: () => ({ endpoint, expirationTime: null, keys }),
        unsubscribe: async () => {
          window.pushLog.unsubscribe.push(endpoint);
          current = null;
          return true;
        },
      };
      return current;
    };
    PushManager.prototype.getSubscription = async function () {
      return current;
    };
  });
  const api = { requests: [], endpoints: [] };
  await page.route(`${origin}/api/chat/notifications/push**`, async (route) => {
    const request = route.request();
    const url = new URL(request.url());
    api.requests.push({ method: request.method(), url: url.pathname + url.search, authorization: request.headers().authorization, body: request.postData() });
    if (request.method() === "POST") api.endpoints.push(JSON.parse(request.postData()).endpoint);
    if (request.method() === "DELETE") api.endpoints = api.endpoints.filter((e) => e !== url.searchParams.get("endpoint"));
    const subscriptions = api.endpoints.map((endpoint) => ({ endpoint, created_at: 1765000000000 }));
    await route.fulfill({ json: { public_key: PUBLIC_KEY, subscriptions } });
  });
  return { page, api, errors };
}

const button = "#notify";

test("nothing is asked before the click: permission stays default, no worker, the API only read; a refusal sends nothing", async () => {
  const context = await browser.newContext();
  try {
    const { page, api, errors } = await open(context);
    await page.goto(`${origin}/bookings/42`);
    await page.waitForSelector(`${button}[data-state=off]`);
    await page.waitForTimeout(500);
    assert.equal(await page.evaluate(() => Notification.permission), "default");
    assert.equal(await page.evaluate(() => window.pushLog.requestPermission), 0);
    assert.equal(await page.evaluate(async () => (await navigator.serviceWorker.getRegistrations()).length), 0);
    assert.deepEqual(api.requests.map((r) => r.method), ["GET"]);
    assert.equal(await page.textContent(button), "Notify me of new messages");
    console.log(`# measured: before a click, ${api.requests.length} API request (GET), 0 permission requests, 0 workers`);

    // Without the grant, headless Chromium refuses the prompt: denied, the button hidden, nothing registered or sent.
    await page.click(button);
    await page.waitForSelector(`${button}[data-state=denied]`, { state: "hidden" });
    assert.equal(await page.evaluate(() => window.pushLog.requestPermission), 1);
    assert.equal(await page.evaluate(async () => (await navigator.serviceWorker.getRegistrations()).length), 0);
    assert.deepEqual(await page.evaluate(() => window.pushLog.subscribe), []);
    assert.deepEqual(api.requests.map((r) => r.method), ["GET"]);
    assert.deepEqual(errors, []);
  } finally {
    await context.close();
  }
});

test("the click asks once, registers the worker, sends {endpoint, keys: {p256dh, auth}}; a push shows; Stop removes it", async () => {
  const context = await browser.newContext();
  await context.grantPermissions(["notifications"], { origin });
  try {
    const { page, api, errors } = await open(context);
    await page.goto(`${origin}/bookings/42`);
    await page.waitForSelector(`${button}[data-state=off]`);
    assert.equal(await page.evaluate(() => window.pushLog.requestPermission), 0, "no permission request before the click");
    assert.deepEqual(api.requests.map((r) => r.method), ["GET"], "only the state read before the click");

    await page.click(button);
    await page.waitForSelector(`${button}[data-state=on]`, { timeout: 15_000 });
    assert.equal(await page.textContent(button), "Stop notifications");
    assert.equal(await page.evaluate(() => window.pushLog.requestPermission), 1);

    // The worker: registered from the page's origin, at its root, active.
    const registration = await page.evaluate(async () => {
      const r = await navigator.serviceWorker.getRegistration("/booking-chat-sw.js");
      return r && { scope: r.scope, script: r.active?.scriptURL, state: r.active?.state };
    });
    assert.deepEqual(registration, { scope: `${origin}/`, script: `${origin}/booking-chat-sw.js`, state: "activated" });

    // Subscribed with the API's key, userVisibleOnly; the POST carried exactly the subscription's toJSON().
    const { subscribe } = await page.evaluate(() => window.pushLog);
    assert.deepEqual(subscribe, [{ userVisibleOnly: true, key: PUBLIC_KEY }]);
    const post = api.requests.find((r) => r.method === "POST");
    assert.ok(post, "a POST to the API");
    assert.equal(post.url, "/api/chat/notifications/push");
    assert.equal(post.authorization, `Bearer ${TOKEN}`);
    const body = JSON.parse(post.body);
    assert.deepEqual(Object.keys(body).sort(), ["endpoint", "expirationTime", "keys"]);
    assert.match(body.endpoint, /^https:\/\/fcm\.googleapis\.com\/fcm\/send\/fake-/);
    assert.deepEqual(Object.keys(body.keys).sort(), ["auth", "p256dh"]);
    assert.match(body.keys.p256dh, /^[A-Za-z0-9_-]{87}$/);
    assert.match(body.keys.auth, /^[A-Za-z0-9_-]{22}$/);
    assert.deepEqual(body, await page.evaluate(async () => (await PushManager.prototype.getSubscription()).toJSON()));

    // A push through DevTools to the real worker: shown with the payload's title, body, tag and data; silent
    // while this focused page is the booking's; not silent for another booking.
    const cdp = await context.newCDPSession(page);
    const registrationId = await new Promise((resolve) => {
      cdp.on("ServiceWorker.workerRegistrationUpdated", ({ registrations }) => {
        const ours = registrations.find((r) => r.scopeURL === `${origin}/` && !r.isDeleted);
        if (ours) resolve(ours.registrationId);
      });
      void cdp.send("ServiceWorker.enable");
    });
    const payload = (booking) => ({
      v: 1,
      title: `2 new messages about booking ${booking}`,
      body: "The owner: Is 9 am fine?",
      url: `${origin}/bookings/${booking}`,
      booking_id: booking,
      unread: 2,
      tag: `booking-${booking}`,
      future_field: true,
    });
    const shown = () =>
      page.evaluate(async () =>
        (await (await navigator.serviceWorker.getRegistration("/booking-chat-sw.js")).getNotifications()).map((n) => ({
          title: n.title,
          body: n.body,
          tag: n.tag,
          data: n.data,
          silent: n.silent,
        })),
      );
    await page.bringToFront();
    const focused = await page.evaluate(() => document.hasFocus() && document.visibilityState === "visible");
    assert.ok(focused, "the booking's page is focused and visible");
    for (const booking of [42, 43]) {
      await cdp.send("ServiceWorker.deliverPushMessage", { origin, registrationId, data: JSON.stringify(payload(booking)) });
    }
    await cdp.send("ServiceWorker.deliverPushMessage", { origin, registrationId, data: "not json" });
    let notifications = [];
    for (let i = 0; i < 50 && notifications.length < 3; i++) {
      await page.waitForTimeout(100);
      notifications = await shown();
    }
    const byTag = Object.fromEntries(notifications.map((n) => [n.tag, n]));
    assert.deepEqual(byTag["booking-42"], {
      title: "2 new messages about booking 42",
      body: "The owner: Is 9 am fine?",
      tag: "booking-42",
      data: { url: `${origin}/bookings/42`, booking_id: 42 },
      silent: true,
    });
    assert.equal(byTag["booking-43"]?.silent, false);
    assert.deepEqual(byTag["booking-chat"], { title: "New messages", body: "", tag: "booking-chat", data: {}, silent: false });

    // Stop: DELETE with the endpoint url-encoded, then the subscription dropped.
    await page.click(button);
    await page.waitForSelector(`${button}[data-state=off]`);
    const del = api.requests.find((r) => r.method === "DELETE");
    assert.equal(del.url, `/api/chat/notifications/push?endpoint=${encodeURIComponent(body.endpoint)}`);
    assert.deepEqual(await page.evaluate(() => window.pushLog.unsubscribe), [body.endpoint]);
    assert.deepEqual(api.endpoints, []);
    assert.deepEqual(api.requests.map((r) => r.method), ["GET", "GET", "POST", "DELETE"]);
    assert.deepEqual(errors, []);
    console.log(`# measured: API requests ${api.requests.map((r) => r.method).join(", ")}; ${notifications.length} notifications shown`);
  } finally {
    await context.close();
  }
});
