// The service worker's handlers (src/sw.ts) against a fake worker scope: the notification a payload makes (and
// the generic one when it cannot be read), silent when a focused, visible window is on the chat, a click
// focusing or opening the chat, and a changed subscription subscribed again and announced to the pages.

import { describe, expect, it, vi } from "vitest";
import {
  GENERIC_TITLE,
  install,
  notice,
  onNotificationClick,
  onPush,
  onSubscriptionChange,
  samePage,
  type NoticeOptions,
  type WindowClientLike,
  type WorkerScope,
} from "../../src/sw.js";

const URL_42 = "https://app.example.com/bookings/42";
const PAYLOAD = {
  v: 1,
  title: "2 new messages about Canoe for two days",
  body: "The owner: Is 9 am fine?",
  url: URL_42,
  booking_id: 42,
  unread: 2,
  tag: "booking-42",
};

const data = (value: unknown) => ({ text: () => (typeof value === "string" ? value : JSON.stringify(value)) });

function windowClient(url: string, focused = false, visibilityState = "visible"): WindowClientLike & { messages: unknown[]; focus: ReturnType<typeof vi.fn> } {
  const messages: unknown[] = [];
  return { url, focused, visibilityState, messages, focus: vi.fn(async () => undefined), postMessage: (m: unknown) => void messages.push(m) };
}

/** A fake `self`: the notifications shown, the windows open, the windows opened, the listeners added. */
function fakeScope(windows: WindowClientLike[] = [], href = "https://app.example.com/booking-chat-sw.js") {
  const shown: { title: string; options: NoticeOptions }[] = [];
  const opened: string[] = [];
  const subscribed: unknown[] = [];
  const listeners = new Map<string, (event: never) => void>();
  const matchAll = vi.fn(async () => windows);
  const self: WorkerScope = {
    location: { href },
    registration: {
      scope: "https://app.example.com/",
      showNotification: async (title, options) => void shown.push({ title, options }),
      pushManager: { subscribe: async (options) => void subscribed.push(options) },
    },
    clients: { matchAll, openWindow: async (url) => void opened.push(url) },
    skipWaiting: async () => undefined,
    addEventListener: (type, listener) => void listeners.set(type, listener),
  };
  return { self, shown, opened, subscribed, listeners, matchAll };
}

describe("push", () => {
  it("shows the payload's title, body and tag, with its url and booking in data, renotifying", async () => {
    const { self, shown, matchAll } = fakeScope();
    await onPush(self, { data: data(PAYLOAD) });
    expect(shown).toEqual([
      {
        title: PAYLOAD.title,
        options: { body: PAYLOAD.body, tag: "booking-42", renotify: true, silent: false, data: { url: URL_42, booking_id: 42 } },
      },
    ]);
    expect(matchAll).toHaveBeenCalledWith({ type: "window", includeUncontrolled: true });
  });

  it("ignores fields it does not know", async () => {
    const { self, shown } = fakeScope();
    await onPush(self, { data: data({ ...PAYLOAD, sound: "loud", actions: [1] }) });
    expect(shown[0]!.options).toEqual({ body: PAYLOAD.body, tag: "booking-42", renotify: true, silent: false, data: { url: URL_42, booking_id: 42 } });
  });

  it("shows the generic notification for a push without a payload, or one that is not JSON, or has no title", async () => {
    for (const payload of [null, data("not json"), data("null"), data(42), data({ v: 1, body: "no title" })]) {
      const { self, shown } = fakeScope();
      await onPush(self, { data: payload });
      expect(shown).toEqual([{ title: GENERIC_TITLE, options: { body: "", tag: "booking-chat", renotify: true, silent: false, data: {} } }]);
    }
  });

  it("shows only the title and body of a version it does not know", async () => {
    const { self, shown } = fakeScope();
    await onPush(self, { data: data({ ...PAYLOAD, v: 2 }) });
    expect(shown[0]).toEqual({ title: PAYLOAD.title, options: { body: PAYLOAD.body, tag: "booking-chat", renotify: true, silent: false, data: {} } });
    const other = fakeScope();
    await onPush(other.self, { data: data({ v: 2, title: { text: "?" } }) });
    expect(other.shown[0]!.title).toBe(GENERIC_TITLE);
  });

  it("is silent, not skipped, when a focused and visible window is on the booking's page", async () => {
    const { self, shown } = fakeScope([windowClient("https://app.example.com/", true), windowClient(`${URL_42}#latest`, true)]);
    await onPush(self, { data: data(PAYLOAD) });
    expect(shown).toHaveLength(1);
    expect(shown[0]!.options).toMatchObject({ silent: true, renotify: false, tag: "booking-42" });
  });

  it("is not silent when the booking's window is in the background or hidden, or another booking is focused", async () => {
    const cases = [
      [windowClient(URL_42, false)],
      [windowClient(URL_42, true, "hidden")],
      [windowClient("https://app.example.com/bookings/43", true)],
    ];
    for (const windows of cases) {
      const { self, shown } = fakeScope(windows);
      await onPush(self, { data: data(PAYLOAD) });
      expect(shown[0]!.options).toMatchObject({ silent: false, renotify: true });
    }
  });

  it("takes the icon from the worker's ?icon= parameter", async () => {
    const { self, shown } = fakeScope([], "https://app.example.com/booking-chat-sw.js?icon=%2Flogo.png");
    await onPush(self, { data: data(PAYLOAD) });
    expect(shown[0]!.options.icon).toBe("/logo.png");
    expect(notice(null, "/logo.png").options.icon).toBe("/logo.png");
  });
});

describe("notificationclick", () => {
  const clicked = (data: unknown) => {
    const close = vi.fn();
    return { event: { notification: { data, close } }, close };
  };

  it("closes the notification and focuses the window already on its url", async () => {
    const other = windowClient("https://app.example.com/");
    const chat = windowClient(URL_42);
    const { self, opened } = fakeScope([other, chat]);
    const { event, close } = clicked({ url: URL_42, booking_id: 42 });
    await onNotificationClick(self, event);
    expect(close).toHaveBeenCalled();
    expect(chat.focus).toHaveBeenCalled();
    expect(other.focus).not.toHaveBeenCalled();
    expect(opened).toEqual([]);
  });

  it("opens a window on its url when none is open there", async () => {
    const { self, opened } = fakeScope([windowClient("https://app.example.com/bookings/43")]);
    await onNotificationClick(self, clicked({ url: URL_42, booking_id: 42 }).event);
    expect(opened).toEqual([URL_42]);
  });

  it("opens the worker's scope for a generic notification", async () => {
    const { self, opened } = fakeScope();
    await onNotificationClick(self, clicked({}).event);
    expect(opened).toEqual(["https://app.example.com/"]);
  });
});

describe("pushsubscriptionchange", () => {
  it("subscribes again with the old key and tells every open page", async () => {
    const pages = [windowClient(URL_42), windowClient("https://app.example.com/")];
    const { self, subscribed } = fakeScope(pages);
    const key = new Uint8Array([4, 1, 2]).buffer;
    await onSubscriptionChange(self, { oldSubscription: { options: { applicationServerKey: key } }, newSubscription: null });
    expect(subscribed).toEqual([{ userVisibleOnly: true, applicationServerKey: key }]);
    for (const page of pages) expect(page.messages).toEqual([{ type: "booking-chat-push-changed" }]);
  });

  it("only tells the pages when the browser gave a new subscription, or gave no old one, or subscribing fails", async () => {
    const page = windowClient(URL_42);
    const { self, subscribed } = fakeScope([page]);
    const key = new Uint8Array([4]).buffer;
    await onSubscriptionChange(self, { oldSubscription: { options: { applicationServerKey: key } }, newSubscription: {} });
    await onSubscriptionChange(self, {});
    self.registration.pushManager.subscribe = () => Promise.reject(new Error("no page"));
    await onSubscriptionChange(self, { oldSubscription: { options: { applicationServerKey: key } } });
    expect(subscribed).toEqual([]);
    expect(page.messages).toHaveLength(3);
  });
});

describe("install", () => {
  it("wires push, notificationclick, pushsubscriptionchange and install to waitUntil", async () => {
    const { self, listeners, shown } = fakeScope();
    install(self);
    expect([...listeners.keys()].sort()).toEqual(["install", "notificationclick", "push", "pushsubscriptionchange"]);
    const waited: Promise<unknown>[] = [];
    const push = listeners.get("push") as (event: unknown) => void;
    push({ data: data(PAYLOAD), waitUntil: (p: Promise<unknown>) => waited.push(p) });
    await Promise.all(waited);
    expect(shown).toHaveLength(1);
  });
});

it("samePage ignores the fragment and compares the rest", () => {
  expect(samePage(`${URL_42}#m-9`, URL_42)).toBe(true);
  expect(samePage(`${URL_42}?tab=chat`, URL_42)).toBe(false);
  expect(samePage("not a url", URL_42)).toBe(false);
});
