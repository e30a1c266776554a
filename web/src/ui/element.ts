//! `<booking-chat>`: a thin custom element over `ChatClient`. It renders the client's timeline and status and
//! forwards the user's input; every decision about the connection is the client's.
//!
//! Attributes: `ws-url`, `booking`, `token-url` (or the `tokenProvider` property), `api-url` (lets the client
//! tell a refused handshake's meaning), `user` (names the outbox in storage), `heading`, `theme`
//! (`light`/`dark`; default: the user's preference), and the standard `lang` and `dir`.
//!
//! One element, one client: frameworks re-render (a new `tokenProvider` function each time) and move elements
//! around the DOM, and neither is a reason to reconnect. The element keeps its `ChatClient` for its life and
//! replaces it only when what the client is for changes (`ws-url`, `booking`, the outbox's user), announcing it
//! with `chat-client`. The module touches no DOM global when imported, so that it loads on a server.

import { ChatClient, httpProbe, localStorageOutbox } from "../client/index.js";
import type { ConnectionStatus, TokenProvider } from "../client/client.js";
import type { TimelineMessage } from "../client/timeline.js";
import { ENGLISH, type ChatStrings } from "./strings.js";
import { STYLES } from "./styles.js";

/** For promises whose failure the element shows otherwise (a failed message) or that need no word. */
const ignore = (): void => {};

/** The reactions offered on every message. */
const QUICK_REACTIONS = ["👍", "❤️", "🎉"];

/** Builds an element: `h("li", {class: "msg", part: "message"}, ...children)`. */
function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Record<string, string> = {},
  ...children: (Node | string | false | undefined)[]
): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, v);
  for (const c of children) if (c !== false && c !== undefined) el.append(c);
  return el;
}

/** A token provider from a URL answering `{"token": "..."}` (or the token as text), with the page's cookies. */
export function tokenFromUrl(url: string): TokenProvider {
  return async () => {
    const response = await fetch(url, { credentials: "include", cache: "no-store" });
    if (!response.ok) throw new Error(`token: HTTP ${response.status}`);
    const text = await response.text();
    try {
      const json: unknown = JSON.parse(text);
      if (typeof json === "object" && json !== null && typeof (json as { token?: unknown }).token === "string") {
        return (json as { token: string }).token;
      }
    } catch {
      // Not JSON: the body is the token.
    }
    return text.trim();
  };
}

/** `HTMLElement` where there is one; on a server (no DOM) a stand-in, so that importing does not throw. */
const Base: typeof HTMLElement = globalThis.HTMLElement ?? (class {} as typeof HTMLElement);

/** How long a removed element waits before closing its connection: a move in the DOM re-inserts it sooner. */
const PARK_DELAY_MS = 1_000;

/** The `<booking-chat>` element. */
export class BookingChatElement extends Base {
  static readonly observedAttributes = ["ws-url", "booking", "token-url", "api-url", "user", "heading", "lang"];

  #client: ChatClient | undefined;
  /** What `#client` is for (URL, booking, outbox): another value means another client. */
  #identity = "";
  #provider: TokenProvider | undefined;
  /** Closed because the element left the document; started again when it comes back. */
  #parked = false;
  #parkTimer: ReturnType<typeof setTimeout> | undefined;
  #updatePending = false;
  #strings: ChatStrings = ENGLISH;
  #unsubscribe: (() => void)[] = [];
  #rows = new Map<string, { el: HTMLElement; sig: unknown }>();
  #bookingStatus: string | undefined;
  /** Follow new messages: the user is at the end of the list (or just sent). */
  #stickToBottom = true;
  readonly #root: ShadowRoot;
  readonly #els: {
    title: HTMLHeadingElement;
    status: HTMLSpanElement;
    booking: HTMLSpanElement;
    presence: HTMLSpanElement;
    banner: HTMLDivElement;
    bannerText: HTMLSpanElement;
    reconnect: HTMLButtonElement;
    log: HTMLDivElement;
    older: HTMLButtonElement;
    list: HTMLOListElement;
    typing: HTMLDivElement;
    live: HTMLDivElement;
    form: HTMLFormElement;
    input: HTMLTextAreaElement;
    send: HTMLButtonElement;
  };

  constructor() {
    super();
    this.#root = this.attachShadow({ mode: "open" });
    const style = h("style");
    style.textContent = STYLES;
    const e = {
      title: h("h2", { part: "title", id: "title" }),
      status: h("span", { class: "status", part: "status", role: "status" }),
      booking: h("span", { class: "booking", part: "booking-status" }),
      presence: h("span", { class: "presence", part: "presence" }),
      banner: h("div", { class: "banner", part: "banner", hidden: "" }),
      bannerText: h("span"),
      reconnect: h("button", { part: "reconnect", type: "button", hidden: "" }),
      log: h("div", { class: "log", part: "log", tabindex: "0", role: "region" }),
      older: h("button", { class: "older", part: "older", type: "button", hidden: "" }),
      list: h("ol", { part: "messages" }),
      typing: h("div", { class: "typing", part: "typing", "aria-live": "polite" }),
      live: h("div", { class: "sr", "aria-live": "polite" }),
      form: h("form", { part: "composer" }),
      input: h("textarea", { part: "input", rows: "1", maxlength: "4000", autocomplete: "off", enterkeyhint: "send" }),
      send: h("button", { class: "send", part: "send", type: "submit" }),
    };
    this.#els = e;
    e.log.append(e.older, e.list);
    e.banner.append(e.bannerText, e.reconnect);
    e.reconnect.addEventListener("click", () => {
      this.#client?.reconnect();
      // The button hides as the client connects: the focus goes where the user writes.
      e.input.focus();
    });
    e.form.append(e.input, e.send);
    const header = h("header", { part: "header" }, h("div", {}, e.title, e.booking, e.presence), e.status);
    this.#root.append(style, h("section", { class: "chat", part: "container", "aria-labelledby": "title" }, header, e.banner, e.log, e.typing, e.live, e.form));

    e.form.addEventListener("submit", (event) => {
      event.preventDefault();
      this.#submit();
    });
    e.input.addEventListener("keydown", (event) => {
      if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
        event.preventDefault();
        this.#submit();
      }
    });
    e.input.addEventListener("input", () => {
      if (e.input.value) this.#client?.typing();
      else this.#client?.stopTyping();
    });
    e.input.addEventListener("blur", () => this.#client?.stopTyping());
    e.older.addEventListener("click", () => this.#loadOlder());
    e.log.addEventListener("scroll", () => this.#markRead(), { passive: true });
    // A resized widget (phone rotation, layout change) stays at the newest message if it was there.
    new ResizeObserver(() => this.#stickToBottom && (e.log.scrollTop = e.log.scrollHeight)).observe(e.log);
    e.list.addEventListener("click", (event) => this.#onListClick(event));
    this.#applyStrings();
  }

  /**
   * The headless client behind the element, once `ws-url`, `booking` and a token source are set. The same
   * instance for the element's life, unless `ws-url`, `booking` or `user` change: then a new one, announced by
   * `chat-client`.
   */
  get client(): ChatClient | undefined {
    if (this.#updatePending) this.#update();
    return this.#client;
  }

  /**
   * Where tokens come from, instead of `token-url`. Called on every (re)connect and renewal. Setting it again
   * (a framework's re-render) only swaps the function the client calls: no reconnect.
   */
  get tokenProvider(): TokenProvider | undefined {
    return this.#provider;
  }
  set tokenProvider(provider: TokenProvider | undefined) {
    if (provider === this.#provider) return;
    this.#provider = provider;
    this.#scheduleUpdate();
  }

  /** The element's words; set a partial object to translate or reword (merged over English). */
  get strings(): ChatStrings {
    return this.#strings;
  }
  set strings(strings: Partial<ChatStrings>) {
    this.#strings = { ...ENGLISH, ...strings };
    this.#applyStrings();
    this.#rows.clear();
    this.#els.list.replaceChildren();
    this.#render();
  }

  connectedCallback(): void {
    document.addEventListener("visibilitychange", this.#onVisible);
    clearTimeout(this.#parkTimer);
    this.#update();
  }

  disconnectedCallback(): void {
    document.removeEventListener("visibilitychange", this.#onVisible);
    // A move in the DOM (removed, then inserted elsewhere) must not reconnect: close only if it stays out.
    clearTimeout(this.#parkTimer);
    this.#parkTimer = setTimeout(() => {
      const client = this.#client;
      if (this.isConnected || !client || client.status.state === "stopped") return;
      this.#parked = true;
      client.close();
    }, PARK_DELAY_MS);
  }

  attributeChangedCallback(name: string, old: string | null, value: string | null): void {
    if (old === value) return;
    if (name === "heading" || name === "lang") this.#applyStrings();
    else this.#scheduleUpdate();
  }

  #onVisible = (): void => this.#markRead();

  /** Frameworks set attributes and properties one by one: the client follows once they are all set. */
  #scheduleUpdate(): void {
    if (this.#updatePending) return;
    this.#updatePending = true;
    queueMicrotask(() => this.#updatePending && this.#update());
  }

  /** The token source, read at each call: a new `tokenProvider` or `token-url` applies from the next call. */
  #token: TokenProvider = (context) => {
    const tokenUrl = this.getAttribute("token-url");
    const provider = this.#provider ?? (tokenUrl ? tokenFromUrl(tokenUrl) : undefined);
    return provider ? provider(context) : Promise.reject(new Error("no token-url and no tokenProvider"));
  };

  /** The probe, read at each call like the token source: without `api-url` it cannot tell. */
  #probe = (token: string): Promise<number | undefined> => {
    const apiUrl = this.getAttribute("api-url");
    return apiUrl === null ? Promise.resolve(undefined) : httpProbe(apiUrl, Number(this.getAttribute("booking")))(token);
  };

  /**
   * Brings the client in line with the attributes: created once everything it needs is there, replaced only
   * when its URL, booking or outbox change, started while the element is in a document.
   */
  #update(): void {
    this.#updatePending = false;
    const url = this.getAttribute("ws-url");
    const booking = Number(this.getAttribute("booking"));
    const tokenUrl = this.getAttribute("token-url");
    const user = this.getAttribute("user") ?? tokenUrl ?? "";
    if (!url || !Number.isInteger(booking) || booking <= 0) {
      if (this.#client) this.#replace(undefined);
      return;
    }
    const identity = JSON.stringify([url, booking, user]);
    if (!this.#client || identity !== this.#identity) {
      // Without a token source no client is made; one that loses its source keeps trying, and finds the next.
      if (!this.#client && !this.#provider && !tokenUrl) return;
      this.#identity = identity;
      this.#replace(
        new ChatClient({
          url,
          bookingId: booking,
          token: this.#token,
          outbox: localStorageOutbox(`booking-chat:outbox:${booking}:${user}`),
          probe: this.#probe,
        }),
      );
    }
    const client = this.#client;
    if (this.isConnected && client && (client.status.state === "idle" || this.#parked)) {
      this.#parked = false;
      client.start();
    }
  }

  /** Swaps the client (or drops it: `undefined`), and says so with `chat-client`. */
  #replace(client: ChatClient | undefined): void {
    for (const off of this.#unsubscribe) off();
    this.#unsubscribe = [];
    this.#client?.close();
    this.#client = client;
    this.#parked = false;
    this.#rows.clear();
    this.#els.list.replaceChildren();
    this.#fire("chat-client", client);
    if (!client) return;
    this.#unsubscribe = [
      client.on("timeline", () => this.#render()),
      client.on("status", (status) => {
        this.#renderStatus(status);
        this.#fire("chat-status", status);
      }),
      client.on("typing", (users) => {
        this.#els.typing.textContent = users.length ? this.#strings.typing(users) : "";
      }),
      client.on("receipt", () => this.#render()),
      client.on("presence", () => this.#render()),
      client.on("message", (message) => {
        this.#announce(this.#strings.announce(message.sender_id, message.body));
        this.#fire("chat-message", message);
      }),
      client.on("booking_status", (frame) => {
        this.#bookingStatus = frame.status;
        this.#els.booking.textContent = this.#strings.bookingStatus(frame.status);
        this.#announce(this.#strings.bookingStatus(frame.status));
        this.#fire("chat-booking-status", frame);
      }),
      client.on("error", (frame) => this.#fire("chat-error", frame)),
    ];
    this.#renderStatus(client.status);
    this.#render();
  }

  #fire(name: string, detail: unknown): void {
    this.dispatchEvent(new CustomEvent(name, { detail, bubbles: true, composed: true }));
  }

  #applyStrings(): void {
    const s = this.#strings;
    const e = this.#els;
    e.title.textContent = this.getAttribute("heading") ?? s.title;
    // Named after the chat too, so that two chats on one page have distinct landmarks.
    e.log.setAttribute("aria-label", `${s.messages}: ${e.title.textContent}`);
    e.input.setAttribute("aria-label", s.input);
    e.input.placeholder = s.placeholder;
    e.send.textContent = s.send;
    e.older.textContent = s.loadOlder;
    e.reconnect.textContent = s.tryAgain;
    if (this.#bookingStatus) e.booking.textContent = s.bookingStatus(this.#bookingStatus);
    if (this.#client) this.#renderStatus(this.#client.status);
  }

  #renderStatus(status: ConnectionStatus): void {
    const s = this.#strings;
    const e = this.#els;
    e.status.dataset.state = status.state;
    e.status.textContent =
      status.state === "online"
        ? s.online
        : status.state === "reconnecting"
          ? s.reconnecting
          : status.state === "offline"
            ? s.offline
            : status.state === "stopped"
              ? s.closed
              : s.connecting;
    const stopped: Partial<Record<string, string>> = {
      forbidden: s.forbidden,
      not_found: s.notFound,
      handshake_refused: s.handshakeRefused,
      signed_out: s.signedOut,
      removed: s.removed,
    };
    const banner =
      status.state === "stopped"
        ? (stopped[status.reason ?? ""] ?? "")
        : (status.state === "reconnecting" || status.state === "offline") && status.attempt > 1
          ? s.queued
          : "";
    e.bannerText.textContent = banner;
    e.banner.hidden = !banner;
    // Refusals that a retry may cure get a button; a non-member (or one removed), a missing booking or a
    // signed-out user do not.
    e.reconnect.hidden = !(status.state === "stopped" && status.reason === "handshake_refused");
    e.input.disabled = e.send.disabled = status.state === "stopped" && status.reason !== "closed";
  }

  #submit(): void {
    const input = this.#els.input;
    const client = this.#client;
    if (client && input.value.trim()) {
      // A refusal shows on the message itself ("Not sent", with Retry and Discard).
      client.send(input.value).catch(ignore);
      input.value = "";
      this.#stickToBottom = true;
    }
    input.focus();
  }

  #announce(text: string): void {
    // A fresh node per announcement: screen readers announce additions to a live region.
    this.#els.live.replaceChildren(h("p", {}, text));
  }

  #loadOlder(): void {
    const log = this.#els.log;
    const fromBottom = log.scrollHeight - log.scrollTop;
    this.#client?.loadOlder().then(() => (log.scrollTop = log.scrollHeight - fromBottom), ignore);
  }

  #onListClick(event: Event): void {
    const target = event.target instanceof Element ? event.target.closest("button") : null;
    const client = this.#client;
    if (!target || !client) return;
    const { action, key } = target.dataset;
    const row = key ? client.timeline.find((m) => m.key === key) : undefined;
    if (!row) return;
    if (action === "react" && row.id !== undefined && target.dataset.emoji) client.react(row.id, target.dataset.emoji).catch(ignore);
    if (action === "retry" && row.client_message_id) client.retry(row.client_message_id).catch(ignore);
    if (action === "discard" && row.client_message_id) {
      client.discard(row.client_message_id);
      this.#els.input.focus();
    }
  }

  /** Marks the newest message read when the user can see it: page visible, list scrolled to the end. */
  #markRead(): void {
    const client = this.#client;
    const log = this.#els.log;
    if (!client || document.visibilityState !== "visible") return;
    if (log.scrollHeight - log.scrollTop - log.clientHeight > 24) {
      this.#stickToBottom = false;
      return;
    }
    this.#stickToBottom = true;
    let newest: number | undefined;
    for (const m of client.timeline) if (!m.mine && m.id !== undefined) newest = m.id;
    if (newest !== undefined) client.markRead(newest).catch(ignore);
  }

  #render(): void {
    const client = this.#client;
    const e = this.#els;
    if (!client) return;
    const me = client.me;
    let seenUpTo = 0;
    for (const [user, id] of client.receipts) if (user !== me) seenUpTo = Math.max(seenUpTo, id);
    let seenKey: string | undefined;
    for (const m of client.timeline) if (m.mine && m.id !== undefined && m.id <= seenUpTo) seenKey = m.key;

    const lang = this.closest("[lang]")?.getAttribute("lang") || undefined;
    const time = new Intl.DateTimeFormat(lang, { timeStyle: "short" });
    // The other members' presence, in the header.
    const others = [...client.presence.values()].filter((p) => p.user_id !== me);
    e.presence.textContent = others
      .map((p) => this.#strings.presence(p.user_id, p.online, p.last_seen_at === null ? null : time.format(p.last_seen_at)))
      .filter(Boolean)
      .join(" · ");
    e.presence.dataset.online = String(others.some((p) => p.online));
    const wanted: { key: string; sig: unknown; build: () => HTMLElement }[] = [];
    let day = "";
    for (const m of client.timeline) {
      const date = new Date(m.created_at);
      const thisDay = date.toDateString();
      if (thisDay !== day) {
        day = thisDay;
        wanted.push({ key: `d:${day}`, sig: lang, build: () => h("li", { class: "day", part: "day" }, h("span", {}, dayLabel(date, lang))) });
      }
      const seen = m.key === seenKey;
      wanted.push({ key: m.key, sig: [m, seen, lang], build: () => this.#message(m, seen, time) });
    }

    // Keyed update: rows whose content did not change keep their element (and the focus in it).
    const focused = this.#root.activeElement;
    const focusedKey = focused instanceof HTMLElement ? focused.dataset.focus : undefined;
    const next = new Map<string, { el: HTMLElement; sig: unknown }>();
    let before: ChildNode | null = e.list.firstChild;
    for (const row of wanted) {
      const old = this.#rows.get(row.key);
      const same = old && JSON.stringify(old.sig) === JSON.stringify(row.sig);
      const el = same ? old.el : row.build();
      if (old && !same) {
        if (before === old.el) before = old.el.nextSibling;
        old.el.remove();
      }
      next.set(row.key, { el, sig: row.sig });
      if (el !== before) e.list.insertBefore(el, before);
      before = el.nextSibling;
    }
    for (const [key, row] of this.#rows) if (!next.has(key)) row.el.remove();
    this.#rows = next;
    if (focusedKey && !focused?.isConnected) {
      this.#root.querySelector<HTMLElement>(`[data-focus="${CSS.escape(focusedKey)}"]`)?.focus();
    }
    e.older.hidden = !client.hasOlder;
    if (this.#stickToBottom) e.log.scrollTop = e.log.scrollHeight;
    this.#markRead();
  }

  #message(m: TimelineMessage, seen: boolean, time: Intl.DateTimeFormat): HTMLElement {
    const s = this.#strings;
    const parts = ["message", m.mine ? "message-mine" : "", m.state !== "sent" ? `message-${m.state}` : ""];
    const meta = h("div", { class: "meta", part: "meta" }, h("time", { datetime: new Date(m.created_at).toISOString() }, time.format(m.created_at)));
    if (m.edited_at && !m.deleted) meta.append(s.edited);
    if (m.state === "sending") meta.append(s.sending);
    if (m.state === "failed") {
      const button = (action: string, label: string) =>
        h("button", { type: "button", part: action, "data-action": action, "data-key": m.key, "data-focus": `${action}:${m.key}` }, label);
      meta.append(h("span", { role: "alert" }, s.failed), button("retry", s.retry), button("discard", s.discard));
    }
    if (seen) meta.append(h("span", { part: "seen" }, s.seen));
    const reactions = h("div", { class: "reactions", part: "reactions" });
    if (m.id !== undefined && !m.deleted) {
      const emojis = [...QUICK_REACTIONS, ...m.reactions.map((r) => r.emoji).filter((x) => !QUICK_REACTIONS.includes(x))];
      for (const emoji of emojis) {
        const r = m.reactions.find((x) => x.emoji === emoji);
        const count = r?.count ?? 0;
        const label = s.react(emoji, count);
        reactions.append(
          h(
            "button",
            {
              type: "button",
              part: "reaction",
              "data-action": "react",
              "data-key": m.key,
              "data-emoji": emoji,
              "data-focus": `react:${emoji}:${m.key}`,
              "aria-pressed": String(!!(this.#client?.me && r?.user_ids.includes(this.#client.me))),
              "aria-label": label,
              ...(count ? {} : { class: "quick" }),
            },
            count ? `${emoji} ${count}` : emoji,
          ),
        );
      }
    }
    const bubble = h(
      "div",
      { class: "bubble", part: "bubble" },
      !m.mine && h("div", { class: "sender", part: "sender" }, m.sender_id),
      h("p", { class: "body", part: "body", dir: "auto" }, m.deleted ? s.deleted : m.body),
      meta,
      reactions.childElementCount > 0 && reactions,
    );
    const li = h("li", {
      class: ["msg", m.mine && "mine", m.state === "failed" && "failed", m.deleted && "deleted"].filter(Boolean).join(" "),
      part: parts.filter(Boolean).join(" "),
      "data-key": m.key,
    }, bubble);
    if (m.id !== undefined) li.dataset.id = String(m.id);
    li.dataset.state = m.state;
    return li;
  }
}

/** "Today", "Yesterday" or the date, in the page's language. */
function dayLabel(date: Date, lang: string | undefined): string {
  const start = (d: Date) => new Date(d.getFullYear(), d.getMonth(), d.getDate()).getTime();
  const days = Math.round((start(date) - start(new Date())) / 86_400_000);
  const text =
    days === 0 || days === -1
      ? new Intl.RelativeTimeFormat(lang, { numeric: "auto" }).format(days, "day")
      : new Intl.DateTimeFormat(lang, { dateStyle: "medium" }).format(date);
  return text.charAt(0).toLocaleUpperCase(lang) + text.slice(1);
}
