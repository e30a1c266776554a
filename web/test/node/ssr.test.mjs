// The built package imported by plain Node, as a server renders a page (Next, Nuxt, Astro): no `window`,
// `document`, `HTMLElement` or `customElements`. Importing must not throw, and must not define anything; the
// headless client must be constructible there; the Web Push helper answers "unsupported"; the service worker is a
// classic script. Needs `npm run build` (npm test runs it first).

import assert from "node:assert/strict";
import { test } from "node:test";

test("there is no DOM here", () => {
  assert.equal(typeof HTMLElement, "undefined");
  assert.equal(typeof customElements, "undefined");
  assert.equal(typeof document, "undefined");
});

test("importing @booking-chat/widget (client and element) in Node does not throw", async () => {
  const widget = await import("../../dist/booking-chat.js");
  assert.equal(typeof widget.ChatClient, "function");
  assert.equal(typeof widget.BookingChatElement, "function");
  assert.equal(typeof widget.SignedOutError, "function");
});

test("importing @booking-chat/widget/client in Node does not throw, and a client can be built there", async () => {
  const { ChatClient, memoryOutbox } = await import("../../dist/client.js");
  const client = new ChatClient({ url: "wss://chat.example/prod", bookingId: 1, token: async () => null, outbox: memoryOutbox() });
  assert.equal(client.status.state, "idle");
});

test("importing @booking-chat/widget/attachments in Node does not throw, and an Uploads can be built there", async () => {
  const { Uploads, uploadBody } = await import("../../dist/attachments.js");
  const { ChatClient } = await import("../../dist/client.js");
  const client = new ChatClient({ url: "wss://chat.example/prod", bookingId: 1, token: async () => null });
  const uploads = new Uploads(client);
  assert.deepEqual([uploads.items, uploads.busy], [[], false]);
  assert.equal(typeof uploadBody, "function");
  uploads.dispose();
});

test("importing @booking-chat/widget/inbox and /user in Node does not throw, and a per-user channel can be built there", async () => {
  const inbox = await import("../../dist/inbox.js");
  assert.equal(typeof inbox.BookingInboxElement, "function");
  const { UserChannel } = await import("../../dist/user.js");
  const channel = new UserChannel({ url: "wss://chat.example/prod", token: async () => null });
  assert.equal(channel.status.state, "idle");
});

test("the built React entry renders on a server: hooks in StrictMode, no socket, React not bundled", async () => {
  const { createElement, StrictMode } = await import("react");
  const { renderToString } = await import("react-dom/server");
  const { ChatProvider, useConversation, useInbox } = await import("../../dist/react.js");
  function Chat() {
    const { messages, status } = useConversation(42);
    const { unreadCount } = useInbox();
    return createElement("p", null, `${status.state} ${messages.length} ${unreadCount}`);
  }
  const html = renderToString(
    createElement(StrictMode, null, createElement(ChatProvider, { url: "wss://chat.example/prod", token: async () => null }, createElement(Chat))),
  );
  assert.equal(html, "<p>idle 0 0</p>");
});

test("importing @booking-chat/widget/push in Node does not throw, and it answers unsupported there", async () => {
  const push = await import("../../dist/push.js");
  const options = { apiUrl: "https://api.example.com", token: () => "t", serviceWorkerUrl: "/booking-chat-sw.js" };
  assert.equal(await push.pushState(options), "unsupported");
  assert.equal(await push.enablePush(options), "unsupported");
  assert.equal(await push.disablePush(options), "unsupported");
});

test("the built service worker is a classic script that wires its four events in a worker, and nothing elsewhere", async () => {
  const { readFile } = await import("node:fs/promises");
  const { runInNewContext } = await import("node:vm");
  const source = await readFile(new URL("../../dist/booking-chat-sw.js", import.meta.url), "utf8");
  assert.doesNotMatch(source, /\bimport\s*[({"']|\bexport\s*[{*]/);
  const added = [];
  runInNewContext(source, { addEventListener: (type) => added.push(type), URL });
  assert.deepEqual(added, [], "outside a service worker");
  // A service worker's global: `globalThis instanceof ServiceWorkerGlobalScope`.
  function ServiceWorkerGlobalScope() {}
  Object.defineProperty(ServiceWorkerGlobalScope, Symbol.hasInstance, { value: () => true });
  runInNewContext(source, { addEventListener: (type) => added.push(type), URL, ServiceWorkerGlobalScope });
  assert.deepEqual(added.sort(), ["install", "notificationclick", "push", "pushsubscriptionchange"]);
});
