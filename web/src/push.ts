//! `@booking-chat/widget/push`: Web Push from the page. It subscribes this browser to the member's unread-message
//! notifications and unsubscribes it, through the backend's `/api/chat/notifications/push` and the package's
//! service worker (`booking-chat-sw.js`, built from `sw.ts`, served by the app from its own origin). It depends
//! on nothing else of the package, so that an app can load it alone (from a settings page, say).
//!
//! - `pushState` tells what a "Notify me" button should say; it never asks the member anything.
//! - `enablePush` asks for permission, so it must run from a user gesture (a click): `Notification.
//!   requestPermission()` is the first thing it does, before anything it awaits, because browsers honour the
//!   request only within the gesture.
//! - `disablePush` removes this browser at the API, then drops the subscription.
//! - `renewPush` sends the browser's current subscription again without asking anything: for the service
//!   worker's `booking-chat-push-changed` message (the push service replaced the subscription; the worker
//!   has no token to tell the API itself).
//!
//! None of them throws in a browser without Web Push (or in a server's Node): they answer `"unsupported"`.

/** Where the backend is, who the member is, and where the service worker is. */
export interface PushOptions {
  /** The backend's base URL (`GET {apiUrl}/api/chat/notifications/push`). */
  apiUrl: string;
  /** The member's token (the one the WebSocket uses); `null` means signed out (a `PushError` `signed-out`). */
  token: () => Promise<string | null> | string | null;
  /** The service worker's URL, on the page's origin (`/booking-chat-sw.js`; `?icon=/logo.png` sets the icon). */
  serviceWorkerUrl: string;
  /** The worker's scope; default: the worker's directory. The pages that open from a notification need not be in it. */
  scope?: string;
}

/**
 * What this browser does about the member's notifications:
 * - `unsupported`: no Web Push here (no service worker, no `PushManager`, not a secure context, or iOS Safari
 *   outside a page added to the home screen);
 * - `unavailable`: the deployment sends no Web Push (the API has no public key);
 * - `denied`: the member blocked notifications for this site (only the browser's site settings undo that);
 * - `off`: not subscribed (or subscribed with a key the API no longer has, or unknown to the API): a click on
 *   "Notify me" can turn it on;
 * - `on`: subscribed, and the API has this browser.
 */
export type PushState = "unsupported" | "unavailable" | "denied" | "off" | "on";

/** What went wrong, by `PushError.code`. */
export type PushErrorCode =
  /** The browser refused the subscription although permission was given (a browser setting, a blocked site). */
  | "permission-denied"
  /** The browser could not reach its push service, or the worker did not install. */
  | "unavailable"
  /** `token()` answered `null`. */
  | "signed-out"
  /** The API refused or failed: `status`, and the API's `{error: {code, message}}` in `apiError` when it sent one. */
  | "api";

/** A failure of `pushState`, `enablePush`, `disablePush` or `renewPush`. */
export class PushError extends Error {
  override readonly name = "PushError";
  constructor(
    message: string,
    /** What went wrong. */
    readonly code: PushErrorCode,
    /** The HTTP status, for `api`. */
    readonly status?: number,
    /** The API's error body, for `api`, when it sent one. */
    readonly apiError?: { code: string; message: string },
  ) {
    super(message);
  }
}

/** `GET /api/chat/notifications/push`'s answer (and `POST`'s and `DELETE`'s). */
export interface PushSettings {
  /** The VAPID public key, base64url (a 65-byte uncompressed P-256 point); `null`: no Web Push here. */
  public_key: string | null;
  /** The member's subscribed browsers (at most 10: the oldest is dropped). */
  subscriptions: { endpoint: string; created_at: number }[];
}

/** The worker's message to open pages when the push service replaced the subscription. */
export const PUSH_CHANGED = "booking-chat-push-changed";

/** Whether this browser can do Web Push at all. */
function supported(): boolean {
  return (
    typeof navigator !== "undefined" &&
    "serviceWorker" in navigator &&
    typeof PushManager !== "undefined" &&
    typeof Notification !== "undefined" &&
    globalThis.isSecureContext === true
  );
}

/** The current state. Makes one `GET` (unless unsupported); never asks the member anything. */
export async function pushState(o: PushOptions): Promise<PushState> {
  if (!supported()) return "unsupported";
  const settings = await api(o, "GET");
  return state(settings, await subscription(o));
}

/**
 * Turns notifications on for this browser: asks for permission (call it from a click), registers the worker,
 * subscribes with the API's key (again, if subscribed with another), and sends the subscription to the API.
 * Resolves with the new state: `on`, or `denied` / `off` when the member said no or dismissed the prompt
 * (nothing sent), `unavailable`, `unsupported`.
 * @throws PushError `permission-denied`, `unavailable` (the push service), `signed-out`, `api`.
 */
export async function enablePush(o: PushOptions): Promise<PushState> {
  if (!supported()) return "unsupported";
  // First, synchronously within the gesture: an await before it would lose the gesture in Firefox and Safari.
  const permission = await askPermission();
  if (permission !== "granted") return permission === "denied" ? "denied" : "off";
  return subscribeAndSend(o);
}

/**
 * Sends this browser's subscription to the API again without asking anything, when it has one and permission
 * is still given (else it answers the state, sending nothing): for the worker's `booking-chat-push-changed`.
 * @throws PushError as `enablePush`.
 */
export async function renewPush(o: PushOptions): Promise<PushState> {
  if (!supported()) return "unsupported";
  if (Notification.permission !== "granted" || !(await subscription(o))) return pushState(o);
  return subscribeAndSend(o);
}

/**
 * Turns notifications off for this browser: `DELETE` at the API, then the subscription is dropped. (The member's
 * `push_enabled` setting, `PUT /api/chat/notifications`, turns off all their browsers.)
 * @throws PushError `signed-out`, `api` (the subscription is then kept, so that trying again can remove it).
 */
export async function disablePush(o: PushOptions): Promise<PushState> {
  if (!supported()) return "unsupported";
  const current = await subscription(o);
  if (!current) return pushState(o);
  const settings = await api(o, "DELETE", `?endpoint=${encodeURIComponent(current.endpoint)}`);
  await current.unsubscribe();
  return state(settings, null);
}

async function subscribeAndSend(o: PushOptions): Promise<PushState> {
  const settings = await api(o, "GET");
  if (!settings?.public_key) return "unavailable";
  const key = fromBase64Url(settings.public_key);
  const registration = await activeRegistration(o);
  let current = await registration.pushManager.getSubscription();
  if (current && !sameKey(current.options.applicationServerKey, key)) {
    await current.unsubscribe();
    current = null;
  }
  try {
    current ??= await registration.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: key });
  } catch (error) {
    const refused = error instanceof DOMException && error.name === "NotAllowedError";
    throw new PushError(`the browser did not subscribe: ${String(error)}`, refused ? "permission-denied" : "unavailable");
  }
  const sent = await api(o, "POST", "", current.toJSON());
  return state(sent, current);
}

/** The state from the API's answer (`null`: no Web Push there) and this browser's subscription. */
function state(settings: PushSettings | null, current: PushSubscription | null): PushState {
  if (!settings?.public_key) return "unavailable";
  if (Notification.permission === "denied") return "denied";
  if (Notification.permission !== "granted" || !current) return "off";
  const known = settings.subscriptions.some((s) => s.endpoint === current.endpoint);
  return known && sameKey(current.options.applicationServerKey, fromBase64Url(settings.public_key)) ? "on" : "off";
}

/** This browser's subscription through the package's worker, without registering it. */
async function subscription(o: PushOptions): Promise<PushSubscription | null> {
  const registration = await navigator.serviceWorker.getRegistration(o.scope ?? o.serviceWorkerUrl);
  return (await registration?.pushManager.getSubscription()) ?? null;
}

/** The worker's registration once a worker is active (subscribing needs one). */
async function activeRegistration(o: PushOptions): Promise<ServiceWorkerRegistration> {
  const registration = await navigator.serviceWorker.register(o.serviceWorkerUrl, o.scope === undefined ? {} : { scope: o.scope });
  const worker = registration.installing ?? registration.waiting;
  if (!registration.active && worker) {
    await new Promise<void>((resolve, reject) => {
      const changed = () => {
        if (worker.state === "activated") resolve();
        if (worker.state === "redundant") reject(new PushError("the service worker did not install", "unavailable"));
      };
      worker.addEventListener("statechange", changed);
      changed();
    });
  }
  return registration;
}

/** `Notification.requestPermission()`, also in the Safari versions that only take a callback. */
function askPermission(): Promise<NotificationPermission> {
  return new Promise((resolve, reject) => Notification.requestPermission(resolve)?.then(resolve, reject));
}

/** A request to `/api/chat/notifications/push`: its answer, or `null` for 404 (no Web Push in this deployment). */
async function api(o: PushOptions, method: string, query = "", body?: unknown): Promise<PushSettings | null> {
  const token = await o.token();
  if (token === null) throw new PushError("signed out", "signed-out");
  const headers: Record<string, string> = { authorization: `Bearer ${token}` };
  if (body !== undefined) headers["content-type"] = "application/json";
  const response = await fetch(`${o.apiUrl.replace(/\/$/, "")}/api/chat/notifications/push${query}`, {
    method,
    headers,
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  if (response.status === 404) return null;
  const answer: unknown = await response.json().catch(() => undefined);
  if (!response.ok) {
    const error = (answer as { error?: { code?: unknown; message?: unknown } } | undefined)?.error;
    const apiError = typeof error?.code === "string" && typeof error.message === "string" ? { code: error.code, message: error.message } : undefined;
    throw new PushError(`${method} push subscription: HTTP ${response.status}${apiError ? ` ${apiError.code}: ${apiError.message}` : ""}`, "api", response.status, apiError);
  }
  return answer as PushSettings;
}

/** base64url (padded or not) to bytes. */
function fromBase64Url(text: string): Uint8Array<ArrayBuffer> {
  return Uint8Array.from(atob(text.replace(/-/g, "+").replace(/_/g, "/")), (c) => c.charCodeAt(0));
}

function sameKey(held: ArrayBuffer | null, key: Uint8Array): boolean {
  const bytes = new Uint8Array(held ?? new ArrayBuffer(0));
  return bytes.length === key.length && bytes.every((b, i) => b === key[i]);
}
