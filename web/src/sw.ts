//! The service worker, built to `dist/booking-chat-sw.js`: a classic script with nothing to import, which the
//! app serves from its own origin (a worker is same-origin with its pages). `@booking-chat/widget/push`
//! registers it; it does nothing but notifications:
//! - `push`: shows the payload the backend sent (`{v: 1, title, body, url, booking_id, unread, tag}`; other
//!   fields are ignored) as a notification. A push it cannot read still shows "New messages": a push that shows
//!   nothing is penalised by browsers (Chrome requires a notification for every push it delivers). When a
//!   window of the origin is focused and visible on the payload's URL, the member is reading that chat: the
//!   notification is then silent (no sound, no vibration, no renotify), not skipped.
//! - `notificationclick`: closes it and focuses a window on its URL, else opens one.
//! - `pushsubscriptionchange`: the push service replaced the subscription. The worker subscribes again with
//!   the old key (best effort), but it has no token to tell the API, so it posts
//!   `{type: "booking-chat-push-changed"}` to every open page of the origin, whose `renewPush` sends it.
//!
//! The icon is the worker's `?icon=` query parameter (`/booking-chat-sw.js?icon=/logo.png`), if any.
//!
//! The handlers take the worker's global scope as a parameter (the few members they use, below), so that the
//! unit tests run them against a fake one; `install(self)` at the bottom wires them when this runs as a worker.

/** The generic notification's title, for a push without a readable payload. */
export const GENERIC_TITLE = "New messages";
/** The tag of generic notifications: a new one replaces the last. */
const GENERIC_TAG = "booking-chat";
/** The message open pages get when the subscription changed. */
const PUSH_CHANGED = "booking-chat-push-changed";

/** The notification options this worker uses (TypeScript's DOM types lack `renotify`). */
export interface NoticeOptions {
  body: string;
  tag?: string;
  renotify?: boolean;
  silent?: boolean;
  icon?: string;
  data: { url?: string; booking_id?: number };
}

/** A window of the origin, as `clients.matchAll` gives it. */
export interface WindowClientLike {
  url: string;
  focused: boolean;
  visibilityState: string;
  focus(): Promise<unknown>;
  postMessage(message: unknown): void;
}

/** What the handlers use of a push subscription. */
interface SubscriptionLike {
  options: { applicationServerKey: ArrayBuffer | null };
}

/** What the handlers use of the worker's global scope (`self`). */
export interface WorkerScope {
  location: { href: string };
  registration: {
    scope: string;
    showNotification(title: string, options: NoticeOptions): Promise<void>;
    pushManager: { subscribe(options: { userVisibleOnly: boolean; applicationServerKey: ArrayBuffer }): Promise<unknown> };
  };
  clients: {
    matchAll(options: { type: "window"; includeUncontrolled: boolean }): Promise<readonly WindowClientLike[]>;
    openWindow(url: string): Promise<unknown>;
  };
  skipWaiting(): Promise<void>;
  addEventListener(type: string, listener: (event: never) => void): void;
}

/** A `push` event: its payload, if any. */
export interface PushEventLike {
  data: { text(): string } | null;
}

/** A `notificationclick` event. */
export interface NotificationClickLike {
  notification: { data: unknown; close(): void };
}

/** A `pushsubscriptionchange` event (`oldSubscription` is missing in some browsers). */
export interface SubscriptionChangeLike {
  oldSubscription?: SubscriptionLike | null;
  newSubscription?: unknown;
}

/** The notification a payload asks for: title and options, before the focused-window check. */
export function notice(data: PushEventLike["data"], icon?: string): { title: string; options: NoticeOptions } {
  const generic = { title: GENERIC_TITLE, options: { body: "", tag: GENERIC_TAG, data: {} } };
  let payload: Record<string, unknown>;
  try {
    payload = JSON.parse(data?.text() ?? "null") as Record<string, unknown>;
  } catch {
    return withIcon(generic, icon);
  }
  if (typeof payload !== "object" || payload === null || typeof payload.title !== "string") return withIcon(generic, icon);
  const body = typeof payload.body === "string" ? payload.body : "";
  // A version this worker does not know: its title and body only, whatever its other fields now mean.
  if (payload.v !== 1) return withIcon({ title: payload.title, options: { body, tag: GENERIC_TAG, data: {} } }, icon);
  const about: NoticeOptions["data"] = {};
  if (typeof payload.url === "string") about.url = payload.url;
  if (typeof payload.booking_id === "number") about.booking_id = payload.booking_id;
  const tag = typeof payload.tag === "string" && payload.tag ? payload.tag : GENERIC_TAG;
  return withIcon({ title: payload.title, options: { body, tag, data: about } }, icon);
}

function withIcon<T extends { options: NoticeOptions }>(n: T, icon: string | undefined): T {
  if (icon) n.options.icon = icon;
  return n;
}

/** Two URLs name the same page: equal once resolved, the fragment aside. */
export function samePage(a: string, b: string): boolean {
  try {
    const [x, y] = [new URL(a), new URL(b)];
    x.hash = y.hash = "";
    return x.href === y.href;
  } catch {
    return false;
  }
}

/** `push`: shows the payload's notification; silent when a focused, visible window is on its URL. */
export async function onPush(self: WorkerScope, event: PushEventLike): Promise<void> {
  const icon = new URL(self.location.href).searchParams.get("icon") ?? undefined;
  const { title, options } = notice(event.data, icon);
  const url = options.data.url;
  const windows = url === undefined ? [] : await self.clients.matchAll({ type: "window", includeUncontrolled: true });
  const reading = windows.some((w) => w.focused && w.visibilityState === "visible" && samePage(w.url, url!));
  await self.registration.showNotification(title, { ...options, silent: reading, renotify: !reading });
}

/** `notificationclick`: closes it, then focuses a window on its URL or opens one (the worker's scope without a URL). */
export async function onNotificationClick(self: WorkerScope, event: NotificationClickLike): Promise<void> {
  event.notification.close();
  const data = event.notification.data as NoticeOptions["data"] | null;
  const url = typeof data?.url === "string" ? data.url : self.registration.scope;
  const windows = await self.clients.matchAll({ type: "window", includeUncontrolled: true });
  const open = windows.find((w) => samePage(w.url, url));
  await (open ? open.focus() : self.clients.openWindow(url));
}

/**
 * `pushsubscriptionchange`: subscribes again with the old key when the browser did not (best effort: it may
 * need a page), then tells every open page, whose `renewPush` sends the subscription with the member's token.
 */
export async function onSubscriptionChange(self: WorkerScope, event: SubscriptionChangeLike): Promise<void> {
  const key = event.oldSubscription?.options.applicationServerKey;
  if (key && !event.newSubscription) {
    await self.registration.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: key }).catch(() => undefined);
  }
  for (const page of await self.clients.matchAll({ type: "window", includeUncontrolled: true })) {
    page.postMessage({ type: PUSH_CHANGED });
  }
}

/** Wires the handlers to the worker's events; an updated worker takes over at once (it keeps no state). */
export function install(self: WorkerScope): void {
  type Waiting<E> = E & { waitUntil(promise: Promise<unknown>): void };
  self.addEventListener("install", (e: Waiting<object>) => e.waitUntil(self.skipWaiting()));
  self.addEventListener("push", (e: Waiting<PushEventLike>) => e.waitUntil(onPush(self, e)));
  self.addEventListener("notificationclick", (e: Waiting<NotificationClickLike>) => e.waitUntil(onNotificationClick(self, e)));
  self.addEventListener("pushsubscriptionchange", (e: Waiting<SubscriptionChangeLike>) => e.waitUntil(onSubscriptionChange(self, e)));
}

declare const ServiceWorkerGlobalScope: { new (): unknown } | undefined;
if (typeof ServiceWorkerGlobalScope === "function" && globalThis instanceof ServiceWorkerGlobalScope) {
  install(globalThis as unknown as WorkerScope);
}
