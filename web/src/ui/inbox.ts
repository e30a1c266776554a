//! `<booking-inbox>`: a user's bookings, each with its other member, its last message, when, and the unread
//! count, most recently active first, live over one per-user connection (`UserChannel`). Choosing one fires
//! `chat-open` with the booking; the page opens the conversation (a `<booking-chat>`, or its own UI).
//!
//! Attributes: `ws-url`, `api-url` (where `GET /api/chat/inbox` is), `token-url` (or the `tokenProvider`
//! property), `heading`, `selected` (the open booking, marked `aria-current`), `people` (names and avatars, as
//! for `<booking-chat>`), `theme`, and the standard `lang`. Like `<booking-chat>` it keeps its channel across
//! re-renders and moves, and touches no DOM global when imported.

import type { TokenProvider } from "../client/client.js";
import { UserChannel, type InboxBooking } from "../client/user.js";
import { Base, h, tokenFromUrl } from "./dom.js";
import { People, type PersonResolver } from "./people.js";
import { vars } from "./styles.js";

/** Every text `<booking-inbox>` shows; set a partial object on its `strings` property to translate. */
export interface InboxStrings {
  title: string;
  empty: string;
  you: string;
  deleted: string;
  /** The unread badge's label. */
  unread: (count: number) => string;
  /** The status line while not online. */
  connecting: string;
}

/** English. */
export const INBOX_ENGLISH: InboxStrings = {
  title: "Conversations",
  empty: "No conversations yet.",
  you: "You",
  deleted: "Message deleted",
  unread: (n) => `${n >= 99 ? `${n}+` : n} unread`,
  connecting: "Connecting…",
};

const STYLES = `
:host{display:block;${vars(false)}color-scheme:light;font:15px/1.4 var(--booking-chat-font,system-ui,sans-serif);color:var(--_fg)}
@media (prefers-color-scheme:dark){:host(:not([theme=light])){${vars(true)}color-scheme:dark}}
:host([theme=dark]){${vars(true)}color-scheme:dark}
:host([hidden]){display:none}
nav{background:var(--_bg);border:1px solid var(--_border);border-radius:var(--booking-chat-radius,12px);overflow:hidden}
h2{font-size:1rem;margin:0;padding:.6rem .9rem;border-block-end:1px solid var(--_border)}
ul{list-style:none;margin:0;padding:0}
button{all:unset;box-sizing:border-box;display:grid;grid-template-columns:auto 1fr auto;gap:.1rem .6rem;align-items:center;inline-size:100%;padding:.55rem .9rem;cursor:pointer;border-block-end:1px solid var(--_border)}
button:hover,[aria-current=true]{background:var(--_bubble)}
button:focus-visible{outline:2px solid var(--_accent);outline-offset:-2px}
img,.initial{grid-row:span 2;inline-size:2rem;block-size:2rem;border-radius:50%;object-fit:cover;background:var(--_bubble-mine);display:grid;place-items:center;font-weight:600}
.name{font-weight:600;overflow-wrap:anywhere}
.title,.last,time,.status,.empty{font-size:.8rem;color:var(--_muted)}
.last{grid-column:2;white-space:nowrap;overflow:hidden;text-overflow:ellipsis}
.unread{grid-column:3;justify-self:end;background:var(--_accent);color:var(--_accent-fg);border-radius:99px;padding:0 .45rem;font-size:.75rem;font-weight:600}
.status,.empty{padding:.5rem .9rem;margin:0}
.status:empty{display:none}
`;

/** The events `<booking-inbox>` dispatches (they bubble and cross shadow roots), by name. */
export interface BookingInboxEventMap {
  /** The user chose a booking: open its conversation. */
  "chat-open": CustomEvent<InboxBooking>;
  /** The element made its per-user channel (for `channel.conversation(id)`, or the inbox's events). */
  "chat-channel": CustomEvent<UserChannel>;
}

/** The `<booking-inbox>` element. */
export class BookingInboxElement extends Base {
  static readonly observedAttributes = ["ws-url", "api-url", "token-url", "heading", "selected", "people", "lang"];

  #channel: UserChannel | undefined;
  #identity = "";
  #provider: TokenProvider | undefined;
  #strings = INBOX_ENGLISH;
  #people = new People(() => this.#render());
  #off: (() => void)[] = [];
  #parkTimer: ReturnType<typeof setTimeout> | undefined;
  readonly #els: { title: HTMLHeadingElement; status: HTMLParagraphElement; list: HTMLUListElement; nav: HTMLElement };

  constructor() {
    super();
    const root = this.attachShadow({ mode: "open" });
    const style = h("style");
    style.textContent = STYLES;
    const e = {
      title: h("h2", { id: "t", part: "title" }),
      status: h("p", { class: "status", part: "status", role: "status" }),
      list: h("ul", { part: "list" }),
      nav: h("nav", { part: "container", "aria-labelledby": "t" }),
    };
    e.nav.append(e.title, e.status, e.list);
    root.append(style, e.nav);
    this.#els = e;
    e.list.addEventListener("click", (event) => {
      const button = event.target instanceof Element ? event.target.closest("button") : null;
      const booking = this.#channel?.inbox.find((b) => String(b.booking_id) === button?.dataset.booking);
      if (!booking) return;
      this.setAttribute("selected", String(booking.booking_id));
      this.#fire("chat-open", booking);
    });
  }

  /** The per-user channel behind the inbox (its conversations share its socket), once the attributes allow one. */
  get channel(): UserChannel | undefined {
    return this.#channel;
  }
  /** Where tokens come from, instead of `token-url`; a new function is not a new connection. */
  get tokenProvider(): TokenProvider | undefined {
    return this.#provider;
  }
  set tokenProvider(provider: TokenProvider | undefined) {
    this.#provider = provider;
    this.#update();
  }
  /** Names and avatars for user ids (the `people` attribute wins). */
  get resolveUser(): PersonResolver | undefined {
    return this.#people.resolver;
  }
  set resolveUser(resolver: PersonResolver | undefined) {
    this.#people.resolver = resolver;
  }
  /** The element's words (merged over English). */
  get strings(): InboxStrings {
    return this.#strings;
  }
  set strings(strings: Partial<InboxStrings>) {
    this.#strings = { ...INBOX_ENGLISH, ...strings };
    this.#render();
  }

  connectedCallback(): void {
    clearTimeout(this.#parkTimer);
    this.#update();
  }

  disconnectedCallback(): void {
    // A move in the DOM is not a reason to reconnect: close only if the element stays out.
    this.#parkTimer = setTimeout(() => !this.isConnected && this.#channel?.close(), 1_000);
  }

  attributeChangedCallback(name: string): void {
    if (name === "people") this.#people.attribute = this.getAttribute("people");
    else if (name === "ws-url" || name === "api-url" || name === "token-url") this.#update();
    else this.#render();
  }

  #token: TokenProvider = (context) => {
    const url = this.getAttribute("token-url");
    const provider = this.#provider ?? (url ? tokenFromUrl(url) : undefined);
    return provider ? provider(context) : Promise.reject(new Error("no token-url and no tokenProvider"));
  };

  #update(): void {
    const url = this.getAttribute("ws-url");
    const apiUrl = this.getAttribute("api-url") ?? undefined;
    const identity = JSON.stringify([url, apiUrl]);
    if (url && (this.#provider || this.hasAttribute("token-url")) && identity !== this.#identity) {
      this.#identity = identity;
      for (const off of this.#off) off();
      this.#channel?.close();
      const channel = new UserChannel(apiUrl === undefined ? { url, token: this.#token } : { url, apiUrl, token: this.#token });
      this.#channel = channel;
      this.#off = [channel.on("inbox", () => this.#render()), channel.on("status", () => this.#render())];
      this.#fire("chat-channel", channel);
    }
    const channel = this.#channel;
    if (this.isConnected && channel && (channel.status.state === "idle" || channel.status.state === "stopped")) channel.start();
    this.#render();
  }

  #fire<K extends keyof BookingInboxEventMap>(name: K, detail: BookingInboxEventMap[K]["detail"]): void {
    this.dispatchEvent(new CustomEvent(name, { detail, bubbles: true, composed: true }));
  }

  #render(): void {
    const s = this.#strings;
    const e = this.#els;
    const channel = this.#channel;
    e.title.textContent = this.getAttribute("heading") ?? s.title;
    const online = channel?.status.state === "online";
    e.status.textContent = online ? "" : s.connecting;
    const bookings = channel?.inbox ?? [];
    const lang = this.closest("[lang]")?.getAttribute("lang") || undefined;
    const selected = this.getAttribute("selected");
    // Rebuilt whole (a list of at most 100 short rows); the focused row keeps the focus.
    const focused = this.shadowRoot?.activeElement instanceof HTMLElement ? this.shadowRoot.activeElement.dataset.booking : undefined;
    e.list.replaceChildren(...bookings.map((b) => this.#row(b, lang, selected)));
    if (online && !bookings.length) e.list.append(h("li", { class: "empty" }, s.empty));
    if (focused) e.list.querySelector<HTMLElement>(`[data-booking="${focused}"]`)?.focus();
  }

  #row(b: InboxBooking, lang: string | undefined, selected: string | null): HTMLLIElement {
    const s = this.#strings;
    const person = this.#people.get(b.other_user_id);
    const m = b.last_message;
    const me = this.#channel?.connection.me;
    const text = m ? (m.deleted ? s.deleted : m.sender_id === me ? `${s.you}: ${m.body}` : m.body) : "";
    const when = new Date(b.active_at);
    const today = when.toDateString() === new Date().toDateString();
    const time = new Intl.DateTimeFormat(lang, today ? { timeStyle: "short" } : { dateStyle: "medium" }).format(when);
    const avatar = person.avatar
      ? h("img", { src: person.avatar, alt: "", part: "avatar" })
      : h("span", { class: "initial", part: "avatar", "aria-hidden": "true" }, person.name.charAt(0).toLocaleUpperCase(lang));
    const button = h(
      "button",
      { type: "button", part: "booking", "data-booking": String(b.booking_id), "aria-current": String(selected === String(b.booking_id)) },
      avatar,
      h("span", { class: "name", part: "name" }, person.name, h("span", { class: "title" }, ` · ${b.title}`)),
      h("time", { datetime: when.toISOString() }, time),
      h("span", { class: "last", part: "last", dir: "auto" }, text),
      b.unread_count > 0 &&
        h(
          "span",
          { class: "unread", part: "unread" },
          // The number for the eye, the words for a screen reader.
          h("span", { "aria-hidden": "true" }, String(b.unread_count)),
          h("span", { style: "position:absolute;clip-path:inset(50%)" }, s.unread(b.unread_count)),
        ),
    );
    return h("li", {}, button);
  }
}
