//! `<booking-chat>`: a thin custom element over `ChatClient`. It renders the client's timeline and status and
//! forwards the user's input; every decision about the connection is the client's.
//!
//! Attributes: `ws-url`, `booking`, `token-url` (or the `tokenProvider` property), `api-url` (lets the client
//! tell a refused handshake's meaning), `user` (names the outbox in storage), `heading`, `people` (display
//! names and avatars; or the `resolveUser` property), `edit-window` (seconds the server allows editing),
//! `theme` (`light`/`dark`; default: the user's preference), and the standard `lang` and `dir`.
//!
//! Keyboard: each message's actions (reactions, Edit and Delete on the user's own within the edit window,
//! Report on the others') are one toolbar, one Tab stop, with the arrow keys (Home, End) inside it.
//!
//! Trust and safety: the chat state (`client.chatState`) shows as a line above the composer (read-only, blocked,
//! "You blocked this member" with Unblock, the date it becomes read-only) and disables writing where the user
//! may not; the sender of a message whose contact details were hidden is told so; Block (in the header) blocks
//! at once, undone by Unblock; a message's Report asks why in place (one button per reason), as Delete asks first.
//!
//! Attachments: the composer's attach button (a file input), files dropped on the chat or pasted into the text
//! box become chips above the composer (`Uploads`: progress, "Processing…", a preview, why one failed, Remove);
//! Send waits for them. A message's images show as thumbnails (their signed URLs asked for when shown, never
//! kept) that open the original in a modal dialog; other files as a button that opens the original in a tab.
//!
//! Search: a button in the header opens a search of the booking's messages (`search.ts`); choosing a result loads
//! the history back to it (`ChatClient.loadUntil`), scrolls it into view, marks it a moment and gives it the focus.
//!
//! One element, one client: frameworks re-render (a new `tokenProvider` function each time) and move elements
//! around the DOM, and neither is a reason to reconnect. The element keeps its `ChatClient` for its life and
//! replaces it only when what the client is for changes (`ws-url`, `booking`, the outbox's user), announcing it
//! with `chat-client`. The module touches no DOM global when imported, so that it loads on a server.

import { ChatClient, httpProbe, localStorageOutbox } from "../client/index.js";
import { Uploads, type Upload } from "../client/attachments.js";
import type { ConnectionStatus, TokenProvider } from "../client/client.js";
import { REPORT_REASONS, type Attachment, type BookingStatusFrame, type ChatStateView, type ErrorFrame, type MessageId, type ReportReason } from "../client/frames.js";
import { People, type PersonResolver } from "./people.js";
import type { TimelineMessage } from "../client/timeline.js";
import { Base, h, ignore, tokenFromUrl } from "./dom.js";
import { Search } from "./search.js";
import { ENGLISH, type ChatStrings } from "./strings.js";
import { STYLES } from "./styles.js";

/** The reactions offered on every message. */
const QUICK_REACTIONS = ["👍", "❤️", "🎉"];

/** The events `<booking-chat>` dispatches (they bubble and cross shadow roots), by name. */
export interface BookingChatEventMap {
  /** The client's status changed. */
  "chat-status": CustomEvent<ConnectionStatus>;
  /** A new message of another member arrived live. */
  "chat-message": CustomEvent<TimelineMessage>;
  /** The booking's status changed. */
  "chat-booking-status": CustomEvent<BookingStatusFrame>;
  /**
   * An error frame not about one of this user's actions (those show where they happened), nor a `BLOCKED` or
   * `CHAT_CLOSED` refusal (those show as the chat state, `chat-state`).
   */
  "chat-error": CustomEvent<ErrorFrame>;
  /** Whether the chat may be written in, and who blocked whom, changed (`client.chatState`). */
  "chat-state": CustomEvent<ChatStateView>;
  /** The element made its client, or replaced it (`undefined`: dropped). */
  "chat-client": CustomEvent<ChatClient | undefined>;
}

/** A message being edited, asked about deleting, or reported: its draft, and the last refusal. */
interface Editing {
  key: string;
  mode: "edit" | "delete" | "report";
  draft: string;
  error?: string;
}

/** The server's default edit window (`CHAT_EDIT_WINDOW_SECONDS`). */
const EDIT_WINDOW_SECONDS = 900;

/** How long a removed element waits before closing its connection: a move in the DOM re-inserts it sooner. */
const PARK_DELAY_MS = 1_000;

/** The `<booking-chat>` element. */
export class BookingChatElement extends Base {
  static readonly observedAttributes = ["ws-url", "booking", "token-url", "api-url", "user", "heading", "lang", "people", "edit-window", "max-attachment-bytes"];

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
  #people = new People(() => this.#render());
  /** The message being edited, or asked about deleting; its draft; the last refusal of an edit or delete. */
  #editing: Editing | undefined;
  /** Renders again when the next own message leaves the edit window (its buttons go). */
  #windowTimer: ReturnType<typeof setTimeout> | undefined;
  /** Follow new messages: the user is at the end of the list (or just sent). */
  #stickToBottom = true;
  /** The composer's files (one per client). */
  #uploads: Uploads | undefined;
  /** What opened the viewer: the focus goes back to it. */
  #opener: HTMLElement | undefined;
  /** Images whose URL could not be asked for (not connected yet): asked again once online. */
  #unloaded: (() => void)[] = [];
  /** The header's search and its panel. */
  readonly #search = new Search({
    client: () => this.#client,
    strings: () => this.#strings,
    name: (id) => this.#people.name(id),
    lang: () => this.#lang(),
    show: (id) => this.#show(id),
  });

  readonly #root: ShadowRoot;
  readonly #els: {
    title: HTMLHeadingElement;
    status: HTMLSpanElement;
    block: HTMLButtonElement;
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
    state: HTMLDivElement;
    notice: HTMLDivElement;
    files: HTMLUListElement;
    form: HTMLFormElement;
    attach: HTMLButtonElement;
    picker: HTMLInputElement;
    input: HTMLTextAreaElement;
    send: HTMLButtonElement;
    chat: HTMLElement;
    viewer: HTMLDialogElement;
    original: HTMLImageElement;
    close: HTMLButtonElement;
  };

  constructor() {
    super();
    this.#root = this.attachShadow({ mode: "open" });
    const style = h("style");
    style.textContent = STYLES;
    const e = {
      title: h("h2", { part: "title", id: "title" }),
      status: h("span", { class: "status", part: "status", role: "status" }),
      block: h("button", { part: "block", type: "button" }),
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
      // Live regions that stay in the page (empty when there is nothing to say), so that what appears is read.
      state: h("div", { class: "note", part: "chat-state", role: "status" }),
      notice: h("div", { class: "note", part: "notice", role: "status" }),
      files: h("ul", { class: "files", part: "attachments" }),
      form: h("form", { part: "composer" }),
      attach: h("button", { part: "attach", type: "button" }, "📎"),
      picker: h("input", { type: "file", multiple: "", hidden: "" }),
      input: h("textarea", { part: "input", rows: "1", maxlength: "4000", autocomplete: "off", enterkeyhint: "send" }),
      send: h("button", { class: "send", part: "send", type: "submit" }),
      chat: h("section", { class: "chat", part: "container", "aria-labelledby": "title" }),
      // Modal: the focus stays in it, Escape closes it (the browser's), and it goes back where it was (`close`).
      viewer: h("dialog", { part: "viewer" }),
      original: h("img", { part: "original" }),
      close: h("button", { part: "close", type: "button", autofocus: "" }),
    };
    this.#els = e;
    e.log.append(e.older, e.list);
    e.banner.append(e.bannerText, e.reconnect);
    e.reconnect.addEventListener("click", () => {
      this.#client?.reconnect();
      // The button hides as the client connects: the focus goes where the user writes.
      e.input.focus();
    });
    // After the text box: from the messages, Tab still reaches the text box first.
    e.form.append(e.input, e.attach, e.picker, e.send);
    const search = this.#search;
    const header = h("header", { part: "header" }, h("div", {}, e.title, e.booking, e.presence), h("div", { class: "end" }, e.status, search.button, e.block));
    e.chat.append(header, search.panel, e.banner, e.log, e.typing, e.live, e.state, e.notice, e.files, e.form);
    e.viewer.append(e.original, e.close);
    this.#root.append(style, e.chat, e.viewer);
    this.#wireAttachments();
    // Blocking is undone as easily (Unblock, where it says so): no question first. The focus follows the button.
    e.block.onclick = () => this.#client?.block().then(() => this.#focus("unblock"), ignore);
    e.state.onclick = (event) => (event.target as Element).localName === "button" && this.#client?.unblock().then(() => e.block.focus(), ignore);

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
      // A notice stays until the user writes again.
      this.#notify();
      this.#renderComposer();
      if (e.input.value) this.#client?.typing();
      else this.#client?.stopTyping();
    });
    e.input.addEventListener("blur", () => this.#client?.stopTyping());
    e.older.addEventListener("click", () => this.#loadOlder());
    e.log.addEventListener("scroll", () => this.#markRead(), { passive: true });
    // A resized widget (phone rotation, layout change) stays at the newest message if it was there.
    new ResizeObserver(() => this.#stickToBottom && (e.log.scrollTop = e.log.scrollHeight)).observe(e.log);
    e.list.addEventListener("click", (event) => this.#onListClick(event));
    e.list.addEventListener("keydown", (event) => this.#onListKey(event));
    e.list.addEventListener("input", (event) => {
      if (this.#editing && event.target instanceof HTMLTextAreaElement) this.#editing.draft = event.target.value;
    });
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

  /**
   * Names and avatars for user ids: `(userId) => ({name, avatar?})`, at once or as a promise; the `people`
   * attribute (`{"u-17": {"name": "Ann", "avatar": "/ann.png"}}`) wins. Unnamed users show as their id.
   */
  get resolveUser(): PersonResolver | undefined {
    return this.#people.resolver;
  }
  set resolveUser(resolver: PersonResolver | undefined) {
    this.#people.resolver = resolver;
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
    if (name === "people") this.#people.attribute = value;
    else if (name === "edit-window") this.#render();
    else if (name === "max-attachment-bytes") this.#limit();
    else if (name === "heading" || name === "lang") this.#applyStrings();
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
    this.#uploads?.dispose();
    this.#els.files.replaceChildren();
    this.#search.reset();
    this.#client = client;
    this.#uploads = client && new Uploads(client);
    this.#unloaded = [];
    this.#limit();
    this.#parked = false;
    this.#rows.clear();
    this.#els.list.replaceChildren();
    this.#fire("chat-client", client);
    if (!client) return;
    this.#unsubscribe = [
      this.#uploads!.on("change", (items) => this.#renderFiles(items)),
      client.on("timeline", () => this.#render()),
      client.on("status", (status) => {
        if (status.state === "online") for (const load of this.#unloaded.splice(0)) load();
        this.#renderStatus(status);
        this.#fire("chat-status", status);
      }),
      client.on("typing", (users) => {
        this.#els.typing.textContent = users.length ? this.#strings.typing(users.map(this.#people.name)) : "";
      }),
      client.on("receipt", () => this.#render()),
      client.on("presence", () => this.#render()),
      client.on("message", (message) => {
        const files = message.attachments?.map((a) => a.name).join(", ");
        this.#announce(this.#strings.announce(this.#people.name(message.sender_id), message.body || files || ""));
        this.#fire("chat-message", message);
      }),
      client.on("booking_status", (frame) => {
        this.#bookingStatus = frame.status;
        this.#els.booking.textContent = this.#strings.bookingStatus(frame.status);
        this.#announce(this.#strings.bookingStatus(frame.status));
        this.#fire("chat-booking-status", frame);
      }),
      // Refusals that are the chat state show as it.
      client.on("error", (frame) => /^(BLOCKED|CHAT_CLOSED)$/.test(frame.error.code) || this.#fire("chat-error", frame)),
      client.on("chat_state", (state) => {
        this.#renderState();
        this.#render();
        this.#fire("chat-state", state);
      }),
      // The sender is told when contact details were hidden from their message (the other members see the placeholders).
      client.on("frame", (f) => {
        if ((f.type === "message" || f.type === "message_updated") && f.masked?.length && f.message.sender_id === client.me) {
          this.#notify(this.#strings.masked);
        }
      }),
    ];
    this.#notify();
    this.#renderStatus(client.status);
    this.#render();
  }

  #fire<K extends keyof BookingChatEventMap>(name: K, detail: BookingChatEventMap[K]["detail"]): void {
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
    e.attach.setAttribute("aria-label", s.attach);
    e.close.textContent = s.close;
    e.older.textContent = s.loadOlder;
    e.reconnect.textContent = s.tryAgain;
    e.block.textContent = s.block;
    this.#search.applyStrings(s);
    e.state.replaceChildren();
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
    this.#renderState();
  }

  /** Whether the user may write: the chat is writable and nobody blocked them. */
  #canWrite(): boolean {
    const client = this.#client;
    const state = client?.chatState;
    return !state || (state.writable && !state.blocks.some((b) => b.blocked_user_id === client?.me));
  }

  /** The chat state: its line above the composer, the composer, Block. */
  #renderState(): void {
    const client = this.#client;
    if (!client) return;
    const s = this.#strings;
    const e = this.#els;
    const { status, me } = client;
    const { writable, closed, read_only_at, blocks } = client.chatState;
    const mine = blocks.some((b) => b.user_id === me);
    const lines = [
      writable
        ? read_only_at !== null &&
          read_only_at > Date.now() &&
          s.readOnlyOn(new Intl.DateTimeFormat(this.#lang(), { dateStyle: "medium", timeStyle: "short" }).format(read_only_at))
        : closed?.reason === "ended"
          ? s.chatEnded
          : s.chatClosed,
      !writable && closed?.note,
      blocks.some((b) => b.blocked_user_id === me) && s.blockedByOther,
      mine && s.blockedByMe,
    ].filter((x): x is string => !!x);
    // Rebuilt (and so announced) only when it says something else.
    if (e.state.textContent !== lines.join("") + (mine ? s.unblock : "")) {
      e.state.replaceChildren(...lines.map((line) => h("p", {}, line)));
      if (mine) e.state.lastChild?.appendChild(h("button", { part: "unblock", type: "button", "data-focus": "unblock" }, s.unblock));
    }
    e.block.hidden = mine;
    e.input.disabled = e.attach.disabled = (status.state === "stopped" && status.reason !== "closed") || !this.#canWrite();
    this.#renderComposer();
  }

  /** Send: something to send (text, or a ready file), and no file still on its way. */
  #renderComposer(): void {
    const e = this.#els;
    const uploads = this.#uploads;
    e.send.disabled = e.input.disabled || !!uploads?.busy || !(e.input.value.trim() || uploads?.ready.length);
  }

  /** Shows a notice above the composer (until the user writes again); nothing: none. */
  #notify(text?: string): void {
    this.#els.notice.replaceChildren(...(text ? [h("p", {}, text)] : []));
  }

  /** The page's language (the nearest `lang`), for dates and times. */
  #lang(): string | undefined {
    return this.closest("[lang]")?.getAttribute("lang") || undefined;
  }

  #submit(): void {
    const { input, send } = this.#els;
    const client = this.#client;
    if (client && !send.disabled) {
      // A refusal shows on the message itself ("Not sent", with Retry and Discard).
      client.send(input.value, this.#uploads?.take()).catch(ignore);
      input.value = "";
      this.#stickToBottom = true;
      this.#renderComposer();
    }
    input.focus();
  }

  // ---- Attachments ----

  /** The attach button and its file input, dropping on the chat, pasting into the text box, the viewer. */
  #wireAttachments(): void {
    const { attach, picker, chat, input, files, viewer } = this.#els;
    const add = (list: FileList | null | undefined) => list?.length && !input.disabled && this.#uploads?.add(list);
    picker.accept = "image/jpeg,image/png,image/webp,application/pdf";
    attach.onclick = () => picker.click();
    picker.onchange = () => {
      add(picker.files);
      picker.value = "";
    };
    // Dragging files over the chat shows where they go (data-drop, its words); leaving or dropping ends it.
    const drop = (on: boolean) => (on ? chat.setAttribute("data-drop", this.#strings.drop) : chat.removeAttribute("data-drop"));
    chat.ondragover = (event) => {
      if (!event.dataTransfer?.types.includes("Files") || input.disabled) return;
      event.preventDefault();
      drop(true);
    };
    chat.ondragleave = (event) => !chat.contains(event.relatedTarget as Node | null) && drop(false);
    chat.ondrop = (event) => {
      drop(false);
      // Files only: text dragged into the text box is the browser's.
      if (!event.dataTransfer?.files.length) return;
      event.preventDefault();
      add(event.dataTransfer.files);
    };
    // A pasted image is attached; pasted text (even with a picture of it, as office apps copy) is text.
    input.onpaste = (event) => {
      const data = event.clipboardData;
      if (!data?.files.length || data.types.includes("text/plain")) return;
      event.preventDefault();
      add(data.files);
    };
    files.onclick = (event) => {
      const key = (event.target as Element).closest("button")?.dataset.key;
      if (!key) return;
      this.#uploads?.remove(key);
      input.focus();
    };
    viewer.onclick = (event) => (event.target === viewer || event.target === this.#els.close) && viewer.close();
    viewer.onclose = () => {
      this.#els.original.removeAttribute("src");
      this.#opener?.focus();
    };
  }

  /** The largest file the composer takes (`max-attachment-bytes`; default the server's, 10 MiB). */
  #limit(): void {
    const max = Number(this.getAttribute("max-attachment-bytes"));
    if (this.#uploads && max > 0) this.#uploads.maxBytes = max;
  }

  /** The chips above the composer: rebuilt when their state changes, the progress bar moved in place. */
  #renderFiles(items: readonly Upload[]): void {
    const list = this.#els.files;
    const s = this.#strings;
    const old = new Map([...list.children].map((li) => [(li as HTMLElement).dataset.key, li as HTMLElement]));
    const focused = this.#root.activeElement;
    list.replaceChildren(
      ...items.map((u) => {
        const sig = `${u.state} ${u.error?.code} ${u.attachment?.thumbnail}`;
        const kept = old.get(u.key);
        if (kept?.dataset.sig === sig) {
          kept.querySelector("progress")?.setAttribute("value", String(u.progress));
          return kept;
        }
        const error = u.error;
        const li = h(
          "li",
          { part: "attachment", "data-key": u.key, "data-sig": sig, "data-state": u.state },
          u.state === "ready" && u.attachment?.thumbnail ? this.#thumbnail(u.attachment, "preview") : "",
          h("span", { class: "name" }, u.name),
          u.state === "uploading" && h("progress", { max: "1", value: String(u.progress), "aria-label": s.uploading(u.name) }),
          u.state === "processing" && h("span", {}, s.processing),
          error &&
            h(
              "span",
              { role: "alert" },
              {
                too_large: s.tooLarge(this.#size(this.#uploads?.maxBytes ?? 0)),
                type: s.fileType,
                too_many: s.tooMany(this.#uploads?.perMessage ?? 0),
                rejected: s.rejected(error.detail ?? ""),
                failed: s.uploadFailed(error.detail ?? ""),
              }[error.code],
            ),
          h("button", { type: "button", part: "remove", "data-key": u.key, "aria-label": s.remove(u.name) }, "×"),
        );
        // A chip rebuilt under the focus (its Remove) keeps it.
        if (kept?.contains(focused)) queueMicrotask(() => li.querySelector("button")?.focus());
        return li;
      }),
    );
    this.#renderComposer();
  }

  /** An image of an attachment (`alt` its name; its size reserved before it loads), its signed URL asked for now. */
  #thumbnail(a: Attachment, part: string, variant: "thumbnail" | "original" = "thumbnail", img = h("img", { part })): HTMLImageElement {
    img.alt = a.name;
    if (a.width && a.height) {
      img.width = a.width;
      img.height = a.height;
    }
    const client = this.#client;
    const load = (): unknown =>
      client?.status.state === "online" ? client.attachmentUrl(a.id, variant).then((url) => (img.src = url), () => this.#unloaded.push(load)) : this.#unloaded.push(load);
    load();
    return img;
  }

  /** Opens an attachment: an image in the viewer, anything else in a new tab (the store says to download or show it). */
  #open(a: Attachment, opener: HTMLElement): void {
    const { viewer, original } = this.#els;
    if (a.thumbnail) {
      this.#opener = opener;
      viewer.setAttribute("aria-label", a.name);
      this.#thumbnail(a, "original", "original", original);
      viewer.showModal();
      return;
    }
    // Opened now, while the click allows a new window; sent to the URL when it comes.
    const tab = window.open("", "_blank");
    if (tab) tab.opener = null;
    this.#client?.attachmentUrl(a.id, "original").then((url) => tab?.location.replace(url), () => tab?.close());
  }

  /** Bytes in the page's language: "470 kB", "9.6 MB". */
  #size(bytes: number): string {
    const mb = bytes >= 1_048_576;
    return new Intl.NumberFormat(this.#lang(), { style: "unit", unit: mb ? "megabyte" : "kilobyte", maximumFractionDigits: 1 }).format(bytes / (mb ? 1_048_576 : 1024));
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

  /**
   * Shows a message (a search result): loads the history back to it if needed, closes the search, scrolls the
   * message to the middle of the list, marks it a moment and gives it the focus (a screen reader reads it).
   */
  async #show(id: MessageId): Promise<void> {
    // Older pages load above; the list must not jump to the end meanwhile.
    this.#stickToBottom = false;
    await this.#client?.loadUntil(id);
    const row = this.#els.list.querySelector<HTMLElement>(`[data-id="${id}"]`);
    if (!row) return;
    this.#search.close(false);
    const log = this.#els.log;
    // The list alone scrolls (`scrollIntoView` would scroll the page too).
    log.scrollTop += row.getBoundingClientRect().top - log.getBoundingClientRect().top - (log.clientHeight - row.offsetHeight) / 2;
    row.classList.add("found");
    row.tabIndex = -1;
    row.focus({ preventScroll: true });
    setTimeout(() => row.classList.remove("found"), 2_000);
  }

  #onListClick(event: Event): void {
    const target = event.target instanceof Element ? event.target.closest("button") : null;
    const client = this.#client;
    if (!target || !client) return;
    const { action, key } = target.dataset;
    const row = key ? client.timeline.find((m) => m.key === key) : undefined;
    if (!row) return;
    const id = row.id;
    const editing = this.#editing;
    if (action === "react" && id !== undefined && target.dataset.emoji) client.react(id, target.dataset.emoji).catch(ignore);
    if (action === "retry" && row.client_message_id) client.retry(row.client_message_id).catch(ignore);
    if (action === "discard" && row.client_message_id) {
      client.discard(row.client_message_id);
      this.#els.input.focus();
    }
    if (action === "edit" || action === "delete" || action === "report") {
      this.#editing = { key: row.key, mode: action, draft: row.body };
      this.#render();
      this.#focus(`${action === "edit" ? "editor" : "confirm"}:${row.key}`);
    }
    const file = row.attachments?.find((a) => a.id === target.dataset.att);
    if (file) this.#open(file, target);
    if (action === "cancel") this.#endEdit(row.key);
    if (action === "save" && editing && id !== undefined) {
      const body = editing.draft;
      if (!body.trim() || body === row.body) return this.#endEdit(row.key);
      this.#settle(editing, client.edit(id, body), `edit:${row.key}`);
    }
    const reason = target.dataset.reason as ReportReason | undefined;
    if (action === "confirm" && editing && id !== undefined) this.#settle(editing, reason ? client.report({ reason, message_id: id }) : client.remove(id), "input");
  }

  /**
   * An edit, a delete or a report on its way: done, the row goes back (focus to `focusAfter`), and a report's
   * id is told; refused, it says why.
   */
  #settle(editing: Editing, answer: Promise<unknown>, focusAfter: string): void {
    answer.then(
      (done) => {
        if (typeof done === "string") this.#notify(this.#strings.reported(done));
        if (this.#editing === editing) this.#endEdit(editing.key, focusAfter);
      },
      (error: Error) => {
        if (this.#editing !== editing) return;
        editing.error = this.#strings.notSaved(error.message);
        this.#render();
      },
    );
  }

  /** Leaves editing (or the delete question, or a report); the focus goes back to where it started, or to `focus`. */
  #endEdit(key: string, focus = `${this.#editing?.mode}:${key}`): void {
    this.#editing = undefined;
    this.#render();
    this.#focus(focus);
  }

  #focus(key: string): void {
    (key === "input" ? this.#els.input : this.#root.querySelector<HTMLElement>(`[data-focus="${CSS.escape(key)}"]`))?.focus();
  }

  /** Arrow keys (and Home, End) move within a message's toolbar; Enter saves an edit, Escape leaves it (or a question). */
  #onListKey(event: KeyboardEvent): void {
    const target = event.target as HTMLElement;
    // Escape leaves an edit, the delete question or a report, wherever the focus is in it.
    if (event.key === "Escape" && target.closest(".editor")) return this.#endEdit(this.#editing?.key ?? "");
    if (target.localName === "textarea") {
      if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
        event.preventDefault();
        target.parentElement?.querySelector<HTMLElement>("[data-action=save]")?.click();
      }
      return;
    }
    const bar = target.closest("[role=toolbar]");
    if (!bar) return;
    const buttons = [...bar.querySelectorAll<HTMLElement>("button:enabled")];
    const rtl = getComputedStyle(this).direction === "rtl";
    const step = { ArrowRight: rtl ? -1 : 1, ArrowLeft: rtl ? 1 : -1, ArrowDown: 1, ArrowUp: -1 }[event.key];
    const index = buttons.indexOf(target);
    const next =
      event.key === "Home" ? buttons[0] : event.key === "End" ? buttons.at(-1) : step ? buttons[(index + step + buttons.length) % buttons.length] : undefined;
    if (!next) return;
    event.preventDefault();
    for (const b of buttons) b.tabIndex = b === next ? 0 : -1;
    next.focus();
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

    const lang = this.#lang();
    const time = new Intl.DateTimeFormat(lang, { timeStyle: "short" });
    // The other members' presence, in the header.
    const others = [...client.presence.values()].filter((p) => p.user_id !== me);
    e.presence.textContent = others
      .map((p) => this.#strings.presence(this.#people.name(p.user_id), p.online, p.last_seen_at === null ? null : time.format(p.last_seen_at)))
      .filter(Boolean)
      .join(" · ");
    e.presence.dataset.online = String(others.some((p) => p.online));
    const wanted: { key: string; sig: unknown; build: () => HTMLElement }[] = [];
    let day = "";
    // The user's messages may be edited and deleted within the server's window: the buttons go when it ends.
    const windowMs = Number(this.getAttribute("edit-window") ?? EDIT_WINDOW_SECONDS) * 1000;
    const now = Date.now();
    let nextExpiry = Infinity;
    // Where the user may not write, nothing of theirs is editable (an edit under way says why, if saved).
    const canWrite = this.#canWrite();
    for (const m of client.timeline) {
      const date = new Date(m.created_at);
      const thisDay = date.toDateString();
      if (thisDay !== day) {
        day = thisDay;
        wanted.push({ key: `d:${day}`, sig: lang, build: () => h("li", { class: "day", part: "day" }, h("span", {}, dayLabel(date, lang))) });
      }
      const seen = m.key === seenKey;
      const until = m.created_at + windowMs;
      const editable = canWrite && m.mine && m.state === "sent" && !m.deleted && until > now;
      if (editable) nextExpiry = Math.min(nextExpiry, until);
      const editing = this.#editing?.key === m.key ? this.#editing : undefined;
      wanted.push({
        key: m.key,
        sig: [m, seen, lang, editable, canWrite, editing?.mode, editing?.error, this.#people.get(m.sender_id)],
        build: () => this.#message(m, seen, time, editable, editing, canWrite),
      });
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
    clearTimeout(this.#windowTimer);
    if (nextExpiry < Infinity) this.#windowTimer = setTimeout(() => this.#render(), nextExpiry - now + 100);
    if (this.#stickToBottom) e.log.scrollTop = e.log.scrollHeight;
    this.#markRead();
  }

  #message(
    m: TimelineMessage,
    seen: boolean,
    time: Intl.DateTimeFormat,
    editable: boolean,
    editing: Editing | undefined,
    canWrite: boolean,
  ): HTMLElement {
    const s = this.#strings;
    const parts = ["message", m.mine ? "message-mine" : "", m.state !== "sent" ? `message-${m.state}` : ""];
    const button = (action: string, label: string, attrs: Record<string, string> = {}) =>
      h("button", { type: "button", part: action, "data-action": action, "data-key": m.key, "data-focus": `${action}:${m.key}`, ...attrs }, label);
    const meta = h("div", { class: "meta", part: "meta" }, h("time", { datetime: new Date(m.created_at).toISOString() }, time.format(m.created_at)));
    if (m.edited_at && !m.deleted) meta.append(s.edited);
    if (m.state === "sending") meta.append(s.sending);
    if (m.state === "failed") meta.append(h("span", { role: "alert" }, s.failed), button("retry", s.retry), button("discard", s.discard));
    if (seen) meta.append(h("span", { part: "seen" }, s.seen));
    // One toolbar per message: one Tab stop, the arrow keys inside (`#onListKey`).
    const actions = h("div", { class: "reactions", part: "reactions", role: "toolbar", "aria-label": s.actions });
    if (m.id !== undefined && !m.deleted && !editing) {
      const me = this.#client?.me;
      const emojis = [...QUICK_REACTIONS, ...m.reactions.map((r) => r.emoji).filter((x) => !QUICK_REACTIONS.includes(x))];
      for (const emoji of emojis) {
        const r = m.reactions.find((x) => x.emoji === emoji);
        const count = r?.count ?? 0;
        // Where the user may not write, the reactions show, and cannot be toggled.
        if (canWrite || count)
          actions.append(
          button("react", count ? `${emoji} ${count}` : emoji, {
            part: "reaction",
            "data-emoji": emoji,
            "data-focus": `react:${emoji}:${m.key}`,
            "aria-pressed": String(!!(me && r?.user_ids.includes(me))),
            "aria-label": s.react(emoji, count),
            ...(count ? {} : { class: "quick" }),
            ...(canWrite ? {} : { disabled: "" }),
          }),
        );
      }
      if (editable) actions.append(button("edit", s.edit, { class: "quick" }), button("delete", s.delete, { class: "quick" }));
      if (!m.mine) actions.append(button("report", s.report, { class: "quick" }));
      actions.querySelectorAll("button:enabled").forEach((b, i) => ((b as HTMLElement).tabIndex = i ? -1 : 0));
    }
    const hidden = m.deleted && (m.moderation ? s.moderated(m.moderation.reason) : s.deleted);
    const text = h("p", { class: "body", part: "body", dir: "auto" }, hidden || m.body);
    let body: HTMLElement = text;
    if (editing) {
      const { mode } = editing;
      const field = h("textarea", { part: "editor", "aria-label": s.editLabel, "data-focus": `editor:${m.key}`, maxlength: "4000", dir: "auto" });
      field.value = editing.draft;
      body = h(
        "div",
        { class: "editor" },
        // A report: the message stays in view, and one button per reason sends it (the first takes the focus).
        mode === "report" && text,
        mode === "edit" ? field : h("span", {}, mode === "report" ? s.reason : s.confirmDelete),
        ...(mode === "edit"
          ? [button("save", s.save)]
          : mode === "report"
            ? REPORT_REASONS.map((r, i) => button("confirm", s.reasons[r], { "data-reason": r, "data-focus": i ? r : `confirm:${m.key}` }))
            : [button("confirm", s.delete)]),
        button("cancel", s.cancel),
        editing.error !== undefined && h("span", { role: "alert" }, editing.error),
      );
    }
    const person = this.#people.get(m.sender_id);
    // Images as thumbnails that open the viewer; other files (PDFs) as their name and size, opening a tab.
    const files =
      !m.deleted &&
      m.attachments?.length &&
      h(
        "div",
        { class: "files" },
        ...m.attachments.map((a) => {
          if (!a.thumbnail) return button("file", `📄 ${a.name} (${this.#size(a.size)})`, { "data-att": a.id, "data-focus": `file:${a.id}` });
          const view = button("view", "", { part: "thumbnail", "data-att": a.id, "data-focus": `view:${a.id}`, "aria-haspopup": "dialog" });
          view.append(this.#thumbnail(a, "image"));
          return view;
        }),
      );
    const bubble = h(
      "div",
      { class: "bubble", part: "bubble" },
      !m.mine && h("div", { class: "sender", part: "sender" }, person.avatar ? h("img", { src: person.avatar, alt: "", part: "avatar" }) : "", person.name),
      files || "",
      (m.body || hidden || editing) && body,
      meta,
      actions.childElementCount > 0 && actions,
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
