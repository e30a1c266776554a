// `@booking-chat/widget/push` against a fake browser (navigator.serviceWorker, PushManager, Notification) and a
// fake API (fetch): permission asked first and only by enablePush, the subscription sent exactly as
// `toJSON()` gives it, a subscription with another key replaced, DELETE with the endpoint url-encoded, the
// API's 404 as "unavailable" and its refusals as PushError "api". Every step is logged in `log`, in order.

import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { disablePush, enablePush, pushState, PushError, renewPush, type PushOptions } from "../../src/push.js";

/** A 65-byte uncompressed P-256 point, as the API's `public_key` is (base64url, unpadded). */
const KEY = new Uint8Array(65).map((_, i) => (i === 0 ? 4 : i));
const KEY_B64 = Buffer.from(KEY).toString("base64url");
const OTHER_KEY = new Uint8Array(65).map((_, i) => (i === 0 ? 4 : 200 - i));

let log: string[];
let requests: { method: string; url: string; headers: Record<string, string>; body: string | undefined }[];

class FakeSubscription {
  readonly expirationTime = null;
  readonly options: { userVisibleOnly: boolean; applicationServerKey: ArrayBuffer };
  constructor(
    private readonly manager: FakePushManager,
    readonly endpoint: string,
    key: Uint8Array,
  ) {
    this.options = { userVisibleOnly: true, applicationServerKey: key.slice().buffer };
  }
  toJSON() {
    return { endpoint: this.endpoint, expirationTime: null, keys: { p256dh: "BPeer-p256dh_key", auth: "auth-secret_16b" } };
  }
  async unsubscribe() {
    log.push(`unsubscribe ${this.endpoint}`);
    if (this.manager.current === this) this.manager.current = null;
    return true;
  }
}

class FakePushManager {
  current: FakeSubscription | null = null;
  subscriptions = 0;
  refusal: DOMException | undefined;
  async getSubscription() {
    return this.current;
  }
  async subscribe(options: { userVisibleOnly: boolean; applicationServerKey: Uint8Array }) {
    log.push(`subscribe userVisibleOnly=${options.userVisibleOnly} key=${Buffer.from(options.applicationServerKey).toString("base64url")}`);
    if (this.refusal) throw this.refusal;
    this.current = new FakeSubscription(this, `https://fcm.googleapis.com/fcm/send/e-${++this.subscriptions}?a=1&b=2`, options.applicationServerKey);
    return this.current;
  }
  /** A subscription made earlier (another visit), with `key`. */
  existing(key: Uint8Array, endpoint = "https://fcm.googleapis.com/fcm/send/old") {
    this.current = new FakeSubscription(this, endpoint, key);
    return this.current;
  }
}

/** The fake browser's pieces the tests look at. */
interface Browser {
  pushManager: FakePushManager;
  registration: { active: object | null; installing: FakeWorker | null; waiting: null; pushManager: FakePushManager };
  registered: boolean;
  notification: { permission: NotificationPermission; answer: NotificationPermission; requestPermission: ReturnType<typeof vi.fn> };
  /** The API: `public_key` (null: no Web Push), the endpoints it holds, and a status to fail with. */
  api: { publicKey: string | null; status: number; endpoints: string[]; failWith?: { status: number; body: unknown } };
}

class FakeWorker extends EventTarget {
  state = "installing";
  become(state: string) {
    this.state = state;
    this.dispatchEvent(new Event("statechange"));
  }
}

let browser: Browser;

function fakeBrowser(): Browser {
  const pushManager = new FakePushManager();
  const b: Browser = {
    pushManager,
    registration: { active: {}, installing: null, waiting: null, pushManager },
    registered: false,
    notification: {
      permission: "default",
      answer: "granted",
      requestPermission: vi.fn(async () => {
        log.push("requestPermission");
        b.notification.permission = b.notification.answer;
        return b.notification.answer;
      }),
    },
    api: { publicKey: KEY_B64, status: 200, endpoints: [] },
  };
  vi.stubGlobal("isSecureContext", true);
  vi.stubGlobal("PushManager", FakePushManager);
  vi.stubGlobal("Notification", {
    get permission() {
      return b.notification.permission;
    },
    requestPermission: b.notification.requestPermission,
  });
  vi.stubGlobal("navigator", {
    serviceWorker: {
      register: vi.fn(async (url: string, options: object) => {
        log.push(`register ${url} ${JSON.stringify(options)}`);
        b.registered = true;
        return b.registration;
      }),
      getRegistration: vi.fn(async () => (b.registered ? b.registration : undefined)),
    },
  });
  vi.stubGlobal(
    "fetch",
    vi.fn(async (url: string, init: RequestInit) => {
      const method = init.method ?? "GET";
      log.push(`${method} ${url}`);
      requests.push({ method, url, headers: init.headers as Record<string, string>, body: init.body as string | undefined });
      if (b.api.failWith) return Response.json(b.api.failWith.body, { status: b.api.failWith.status });
      if (b.api.publicKey === null) {
        return Response.json({ error: { code: "NOT_FOUND", message: "this deployment sends no Web Push" } }, { status: 404 });
      }
      if (method === "POST") b.api.endpoints.push((JSON.parse(init.body as string) as { endpoint: string }).endpoint);
      if (method === "DELETE") {
        const endpoint = new URL(url).searchParams.get("endpoint");
        b.api.endpoints = b.api.endpoints.filter((e) => e !== endpoint);
      }
      return Response.json({ public_key: b.api.publicKey, subscriptions: b.api.endpoints.map((endpoint) => ({ endpoint, created_at: 1765000000000 })) });
    }),
  );
  return b;
}

const options: PushOptions = { apiUrl: "https://api.example.com/", token: async () => "jwt-alice", serviceWorkerUrl: "/booking-chat-sw.js" };
const PUSH_URL = "https://api.example.com/api/chat/notifications/push";

beforeEach(() => {
  log = [];
  requests = [];
  browser = fakeBrowser();
});
afterEach(() => {
  vi.unstubAllGlobals();
});

describe("a browser without Web Push", () => {
  it("is unsupported without a service worker, PushManager, Notification or a secure context, and nothing is asked or sent", async () => {
    const cases: [string, unknown][] = [
      ["navigator", {}],
      ["PushManager", undefined],
      ["Notification", undefined],
      ["isSecureContext", false],
    ];
    for (const [name, value] of cases) {
      browser = fakeBrowser();
      vi.stubGlobal(name, value);
      expect(await pushState(options)).toBe("unsupported");
      expect(await enablePush(options)).toBe("unsupported");
      expect(await disablePush(options)).toBe("unsupported");
      expect(await renewPush(options)).toBe("unsupported");
    }
    expect(log).toEqual([]);
  });

  it("is unsupported where there is no navigator at all (a server), without throwing", async () => {
    vi.stubGlobal("navigator", undefined);
    expect(await pushState(options)).toBe("unsupported");
    expect(await enablePush(options)).toBe("unsupported");
  });
});

describe("pushState", () => {
  it("is unavailable when the API answers 404 (the deployment sends no Web Push)", async () => {
    browser.api.publicKey = null;
    expect(await pushState(options)).toBe("unavailable");
    expect(log).toEqual([`GET ${PUSH_URL}`]);
  });

  it("is unavailable when the API's public key is null", async () => {
    vi.stubGlobal("fetch", async () => Response.json({ public_key: null, subscriptions: [] }));
    expect(await pushState(options)).toBe("unavailable");
  });

  it("is off before any subscription, and never asks for permission or registers the worker", async () => {
    expect(await pushState(options)).toBe("off");
    expect(browser.notification.requestPermission).not.toHaveBeenCalled();
    expect(log).toEqual([`GET ${PUSH_URL}`]);
    expect(requests[0]!.headers).toEqual({ authorization: "Bearer jwt-alice" });
  });

  it("is denied when the member blocked notifications", async () => {
    browser.notification.permission = "denied";
    expect(await pushState(options)).toBe("denied");
  });

  it("is on when subscribed with the API's key and the API has the endpoint; off when it has not, or the key changed", async () => {
    browser.notification.permission = "granted";
    browser.registered = true;
    const sub = browser.pushManager.existing(KEY);
    browser.api.endpoints = [sub.endpoint];
    expect(await pushState(options)).toBe("on");
    browser.api.endpoints = [];
    expect(await pushState(options)).toBe("off");
    browser.api.endpoints = [sub.endpoint];
    browser.pushManager.existing(OTHER_KEY, sub.endpoint);
    expect(await pushState(options)).toBe("off");
  });

  it("throws PushError api with the status and the API's error on 401", async () => {
    browser.api.failWith = { status: 401, body: { error: { code: "AUTHENTICATION_ERROR", message: "token expired" } } };
    const error = await pushState(options).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PushError);
    expect(error).toMatchObject({ code: "api", status: 401, apiError: { code: "AUTHENTICATION_ERROR", message: "token expired" } });
    expect((error as Error).message).toContain("401");
  });

  it("throws PushError api without apiError when the error body is not the API's", async () => {
    vi.stubGlobal("fetch", async () => new Response("Bad gateway", { status: 502 }));
    const error = await pushState(options).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: "api", status: 502, apiError: undefined });
  });

  it("throws PushError signed-out when the token is null, sending nothing", async () => {
    const error = await pushState({ ...options, token: () => null }).catch((e: unknown) => e);
    expect(error).toMatchObject({ name: "PushError", code: "signed-out" });
    expect(log).toEqual([]);
  });
});

describe("enablePush", () => {
  it("asks for permission first, synchronously (within the click), then registers, subscribes and POSTs", async () => {
    const done = enablePush(options);
    // Nothing awaited yet: a browser honours the request only within the user's gesture.
    expect(browser.notification.requestPermission).toHaveBeenCalledTimes(1);
    expect(await done).toBe("on");
    expect(log).toEqual([
      "requestPermission",
      `GET ${PUSH_URL}`,
      "register /booking-chat-sw.js {}",
      `subscribe userVisibleOnly=true key=${KEY_B64}`,
      `POST ${PUSH_URL}`,
    ]);
  });

  it("POSTs exactly the subscription's toJSON(), as JSON, with the member's token", async () => {
    await enablePush(options);
    const post = requests.find((r) => r.method === "POST")!;
    const subscription = browser.pushManager.current!;
    expect(post.body).toBe(JSON.stringify(subscription.toJSON()));
    expect(JSON.parse(post.body!)).toEqual({
      endpoint: subscription.endpoint,
      expirationTime: null,
      keys: { p256dh: "BPeer-p256dh_key", auth: "auth-secret_16b" },
    });
    expect(post.headers).toEqual({ authorization: "Bearer jwt-alice", "content-type": "application/json" });
  });

  it("answers denied when the member says no, and sends nothing, registers nothing, subscribes nothing", async () => {
    browser.notification.answer = "denied";
    expect(await enablePush(options)).toBe("denied");
    expect(log).toEqual(["requestPermission"]);
  });

  it("answers off when the member dismisses the prompt, and sends nothing", async () => {
    browser.notification.answer = "default";
    expect(await enablePush(options)).toBe("off");
    expect(log).toEqual(["requestPermission"]);
  });

  it("answers unavailable on the API's 404 without registering or subscribing", async () => {
    browser.api.publicKey = null;
    expect(await enablePush(options)).toBe("unavailable");
    expect(log).toEqual(["requestPermission", `GET ${PUSH_URL}`]);
  });

  it("replaces a subscription made with another key: unsubscribe, then subscribe with the API's key", async () => {
    browser.registered = true;
    browser.pushManager.existing(OTHER_KEY);
    expect(await enablePush(options)).toBe("on");
    expect(log.slice(2)).toEqual([
      "register /booking-chat-sw.js {}",
      "unsubscribe https://fcm.googleapis.com/fcm/send/old",
      `subscribe userVisibleOnly=true key=${KEY_B64}`,
      `POST ${PUSH_URL}`,
    ]);
    expect(JSON.parse(requests.at(-1)!.body!).endpoint).toBe("https://fcm.googleapis.com/fcm/send/e-1?a=1&b=2");
  });

  it("keeps a subscription made with the API's key, and sends it again", async () => {
    browser.registered = true;
    const sub = browser.pushManager.existing(KEY);
    expect(await enablePush(options)).toBe("on");
    expect(log.filter((l) => l.startsWith("subscribe") || l.startsWith("unsubscribe"))).toEqual([]);
    expect(JSON.parse(requests.at(-1)!.body!).endpoint).toBe(sub.endpoint);
  });

  it("waits for a newly installed worker to activate before subscribing", async () => {
    const worker = new FakeWorker();
    browser.registration.active = null;
    browser.registration.installing = worker;
    const done = enablePush({ ...options, scope: "/app/" });
    await vi.waitFor(() => expect(log).toContain('register /booking-chat-sw.js {"scope":"/app/"}'));
    await new Promise((r) => setTimeout(r, 10));
    expect(log.some((l) => l.startsWith("subscribe"))).toBe(false);
    worker.become("installed");
    worker.become("activating");
    worker.become("activated");
    expect(await done).toBe("on");
  });

  it("throws PushError unavailable when the worker fails to install", async () => {
    const worker = new FakeWorker();
    browser.registration.active = null;
    browser.registration.installing = worker;
    const done = enablePush(options).catch((e: unknown) => e);
    await vi.waitFor(() => expect(log.some((l) => l.startsWith("register"))).toBe(true));
    worker.become("redundant");
    expect(await done).toMatchObject({ code: "unavailable" });
  });

  it("throws PushError permission-denied when the browser refuses the subscription, unavailable when its push service fails", async () => {
    browser.pushManager.refusal = new DOMException("Registration failed - permission denied", "NotAllowedError");
    expect(await enablePush(options).catch((e: unknown) => e)).toMatchObject({ name: "PushError", code: "permission-denied" });
    browser.pushManager.refusal = new DOMException("Registration failed - push service error", "AbortError");
    expect(await enablePush(options).catch((e: unknown) => e)).toMatchObject({ name: "PushError", code: "unavailable" });
    expect(requests.some((r) => r.method === "POST")).toBe(false);
  });

  it("throws PushError api with the API's VALIDATION_ERROR when it refuses the endpoint", async () => {
    vi.stubGlobal("fetch", async (_url: string, init: RequestInit) =>
      init.method === "POST"
        ? Response.json({ error: { code: "VALIDATION_ERROR", message: "not an allowed push service" } }, { status: 400 })
        : Response.json({ public_key: KEY_B64, subscriptions: [] }),
    );
    expect(await enablePush(options).catch((e: unknown) => e)).toMatchObject({
      code: "api",
      status: 400,
      apiError: { code: "VALIDATION_ERROR", message: "not an allowed push service" },
    });
  });

  it("answers on with the API's own answer: off if the API did not keep this browser", async () => {
    vi.stubGlobal("fetch", async () => Response.json({ public_key: KEY_B64, subscriptions: [] }));
    expect(await enablePush(options)).toBe("off");
  });
});

describe("disablePush", () => {
  it("DELETEs the url-encoded endpoint at the API, then unsubscribes", async () => {
    await enablePush(options);
    const endpoint = browser.pushManager.current!.endpoint;
    log = [];
    expect(await disablePush(options)).toBe("off");
    expect(log).toEqual([`DELETE ${PUSH_URL}?endpoint=${encodeURIComponent(endpoint)}`, `unsubscribe ${endpoint}`]);
    expect(log[0]).toContain("endpoint=https%3A%2F%2Ffcm.googleapis.com%2Ffcm%2Fsend%2Fe-1%3Fa%3D1%26b%3D2");
    expect(browser.api.endpoints).toEqual([]);
    expect(browser.notification.requestPermission).toHaveBeenCalledTimes(1);
  });

  it("keeps the subscription when the API refuses, so that trying again can remove it", async () => {
    await enablePush(options);
    browser.api.failWith = { status: 401, body: { error: { code: "AUTHENTICATION_ERROR", message: "token expired" } } };
    expect(await disablePush(options).catch((e: unknown) => e)).toMatchObject({ code: "api", status: 401 });
    expect(browser.pushManager.current).not.toBeNull();
    expect(log.some((l) => l.startsWith("unsubscribe"))).toBe(false);
  });

  it("without a subscription only reads the state", async () => {
    expect(await disablePush(options)).toBe("off");
    expect(log).toEqual([`GET ${PUSH_URL}`]);
  });
});

describe("renewPush (the worker's booking-chat-push-changed)", () => {
  it("sends the browser's new subscription without asking for permission", async () => {
    browser.notification.permission = "granted";
    browser.registered = true;
    const sub = browser.pushManager.existing(KEY, "https://fcm.googleapis.com/fcm/send/renewed");
    expect(await renewPush(options)).toBe("on");
    expect(browser.notification.requestPermission).not.toHaveBeenCalled();
    expect(JSON.parse(requests.at(-1)!.body!)).toEqual(sub.toJSON());
  });

  it("sends nothing when there is no subscription (the member turned it off) or no permission", async () => {
    browser.notification.permission = "granted";
    expect(await renewPush(options)).toBe("off");
    browser.notification.permission = "default";
    browser.registered = true;
    browser.pushManager.existing(KEY);
    expect(await renewPush(options)).toBe("off");
    expect(requests.map((r) => r.method)).toEqual(["GET", "GET"]);
    expect(browser.notification.requestPermission).not.toHaveBeenCalled();
  });
});
