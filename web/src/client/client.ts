//! `ChatClient`: the headless chat client. It owns the connection and every decision about it: tokens and
//! their renewal, reconnects with backoff, refused handshakes, resume with `sync`, the outbox, keep-alive and
//! proactive reconnects, typing; it turns server frames into typed events and one ordered, de-duplicated
//! timeline. It retries whatever may pass and stops, saying why (`status.reason`), at what will not: a
//! non-member, a missing booking, handshakes refused again and again, a signed-out user.
//!
//! I/O comes through ports so that the unit tests script all of it: the socket (`transport.ts`), the outbox
//! storage (`outbox.ts`), the network watcher, the clock and the random source.

import { equalJitter, fullJitter, type BackoffOptions } from "./backoff.js";
import { Emitter } from "./emitter.js";
import {
  parseServerFrame,
  type Attachment,
  type AttachmentFrame,
  type AttachmentUrlFrame,
  type AttachmentVariant,
  type BookingId,
  type BookingStatusFrame,
  type ChatMessage,
  type ChatStateView,
  type MessageUpdatedFrame,
  type ClientActions,
  type ClientAction,
  type ErrorFrame,
  type MemberPresence,
  type MembershipFrame,
  type MessageId,
  type PresenceFrame,
  type ReactionFrame,
  type ReceiptFrame,
  type ReportReceivedFrame,
  type SearchResultsFrame,
  type ServerFrame,
  type ServerFrameType,
  type SessionFrame,
  type UnreadFrame,
  type UploadFrame,
} from "./frames.js";
import { readClaims } from "./jwt.js";
import { memoryOutbox, type OutboxEntry, type OutboxStore } from "./outbox.js";
import { Timeline, type TimelineMessage } from "./timeline.js";
import { webSocketFactory, type Socket, type SocketClose, type SocketFactory } from "./transport.js";

/**
 * Returns a token (a JWT). Called before every connection attempt and to renew the token of an open
 * connection; `forceRefresh` means "not a cached one". `null` (or a `SignedOutError`) says the user is signed
 * out: the client stops with `signed_out` until `reconnect()`.
 */
export type TokenProvider = (context: { forceRefresh: boolean }) => Promise<string | null>;

/**
 * What a token provider throws (or rejects with) to say the user is signed out, like resolving `null`. Any
 * error named `SignedOutError` counts, so that a copy of this class from another bundle works too.
 */
export class SignedOutError extends Error {
  override name = "SignedOutError";
  constructor(message = "signed out") {
    super(message);
  }
}

/**
 * Why an action's promise was rejected: the server's `error` frame answering it (`code` one of `ERROR_CODES`,
 * and its `message`), or the client's own reason: `NOT_CONNECTED` (the action needs a connection and there is
 * none), `DISCONNECTED` (the connection closed before the answer; the action may have been applied, and the
 * resume shows it), `TIMEOUT` (no answer within `ackTimeoutMs`), `DISCARDED` (an unsent message was discarded).
 */
export class ChatError extends Error {
  override name = "ChatError";
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

const isSignedOut = (error: unknown): boolean => error instanceof Error && error.name === "SignedOutError";

/**
 * Asks the backend whether `token` may use the booking, as an HTTP status (200, 401, 403, 404), or `undefined`
 * when it cannot tell. Browsers hide the status of a refused WebSocket handshake, so this is how the client
 * learns what a refusal meant.
 */
export type AccessProbe = (token: string) => Promise<number | undefined>;

/** Tells the client when the network comes back (and when it may be gone). */
export interface NetworkWatcher {
  /** `false` when the device knows it is offline. */
  isOnline(): boolean;
  /** Calls `onOnline` when the network is back or the page wakes up, `onOffline` when it goes; returns the unsubscribe. */
  watch(onOnline: () => void, onOffline: () => void): () => void;
}

/** The browser's `online`/`offline` events and page visibility. */
export const browserNetwork: NetworkWatcher = {
  isOnline: () => typeof navigator === "undefined" || navigator.onLine !== false,
  watch(onOnline, onOffline) {
    if (typeof window === "undefined") return () => {};
    const wake = () => document.visibilityState === "visible" && onOnline();
    window.addEventListener("online", onOnline);
    window.addEventListener("offline", onOffline);
    document.addEventListener("visibilitychange", wake);
    return () => {
      window.removeEventListener("online", onOnline);
      window.removeEventListener("offline", onOffline);
      document.removeEventListener("visibilitychange", wake);
    };
  },
};

/** Settings of a `ChatClient`. Only `url`, `bookingId` and `token` are required. */
export interface ChatClientOptions {
  /** The WebSocket API's URL, e.g. `wss://abc.execute-api.eu-west-1.amazonaws.com/prod` (query added here). */
  url: string;
  /** The booking (chat room). Left out for the per-user channel (`channel: "user"`). */
  bookingId?: BookingId | undefined;
  /**
   * `chat` (default), `booking` (status frames only) or `user`: every booking's messages, edits, receipts, status
   * changes and unread counts, each naming its booking (API Gateway and the emulator only; this client listens on
   * it and sends nothing but pings there).
   */
  channel?: "chat" | "booking" | "user";
  /** Where tokens come from; called on every (re)connect and renewal (see `TokenProvider`: `null` is signed out). */
  token: TokenProvider;
  /**
   * Optional: what a refused handshake meant (see `AccessProbe`). Without it, a refusal is retried with a fresh
   * token until `handshakeAttempts` in a row have failed.
   */
  probe?: AccessProbe;
  /**
   * Handshakes refused in a row (closed before opening, each with a fresh token; the probe, if any, not saying
   * the backend is fine) after which the client stops with `handshake_refused` (default 5). `reconnect()`
   * starts again.
   */
  handshakeAttempts?: number;
  /** Where unsent messages wait (default: memory only; the element uses `localStorage`). */
  outbox?: OutboxStore;
  /** Opens sockets (default: the browser's `WebSocket`). */
  socket?: SocketFactory;
  /** Network events (default: the browser's). */
  network?: NetworkWatcher;
  /** The clock, epoch milliseconds (default `Date.now`). */
  now?: () => number;
  /** Uniform in [0, 1) (default `Math.random`). */
  random?: () => number;
  /** Reconnect backoff (default: first retry within 1 s, ceiling 30 s). */
  backoff?: Partial<BackoffOptions>;
  /** Ping after this long without sending (default 4.5 min; API Gateway closes after 10 idle minutes). */
  keepAliveMs?: number;
  /** A ping unanswered for this long means a dead connection (default 10 s). */
  pongTimeoutMs?: number;
  /** A handshake not done in this long is abandoned (default 15 s). */
  connectTimeoutMs?: number;
  /** Reconnect (make before break) after this long (default 1 h 55 min; API Gateway closes at 2 h). */
  maxConnectionMs?: number;
  /**
   * Renew the token this long before it expires (default 60 s), or halfway through its life if that is
   * later: a token is renewed at most once per half of its life. A failed renewal is retried with growing
   * waits (equal jitter over `backoff`) while the token lasts; then the connection is closed at expiry and
   * reconnects like after any drop.
   */
  tokenRefreshMarginMs?: number;
  /** Resend the oldest unacknowledged message after this long without an answer (default 10 s). */
  ackTimeoutMs?: number;
  /** Messages per history page (default 50). */
  pageSize?: number;
  /** While the user types, `typing: true` is sent at most this often (default 3 s). */
  typingIntervalMs?: number;
  /** `typing: false` after this long without a keystroke (default 5 s). */
  typingIdleMs?: number;
  /** Another user's typing indicator lapses after this long without news (default 8 s). */
  typingExpiryMs?: number;
  /**
   * How a token is renewed on an open connection: the `refresh` action (`action`, the default: the client
   * asks `session` on open, and renews before the token expires once the server has answered it, so a
   * server without `session` still gets reconnects), or a new connection each time (`reconnect`, the
   * default of the per-user channel, whose frames must name a booking a user may not have); `none` for a
   * client whose socket someone else renews (a conversation carried by a `UserChannel`).
   */
  tokenRenewal?: "reconnect" | "action" | "none";
}

/** Where the connection stands. */
export type ConnectionState = "idle" | "connecting" | "online" | "reconnecting" | "offline" | "stopped";

/**
 * Why the client stopped: `close()` was called (`closed`); the probe said the user is not a member
 * (`forbidden`) or the booking does not exist (`not_found`); `handshakeAttempts` handshakes in a row were
 * refused (`handshake_refused`); the token provider said the user is signed out (`signed_out`); the
 * marketplace removed the user from the booking while connected (`removed`: `REMOVED_FROM_BOOKING`, or close
 * code 4403). Only `reconnect()` (or `start()`) connects again.
 */
export type StopReason = "closed" | "forbidden" | "not_found" | "handshake_refused" | "signed_out" | "removed";

/** The connection's status, as the `status` event reports it. */
export interface ConnectionStatus {
  state: ConnectionState;
  /** Failed attempts since the last good connection. */
  attempt: number;
  /** For `reconnecting`: when the next attempt starts (epoch ms). */
  retryAt?: number;
  /** For `stopped`. */
  reason?: StopReason;
}

/** The events of a `ChatClient`, by name. */
export interface ChatClientEvents {
  /** The connection changed state. */
  status: ConnectionStatus;
  /** The timeline changed (a message arrived, was acknowledged, failed, got a reaction...). */
  timeline: readonly TimelineMessage[];
  /** A new message of another user arrived live (not from history): for notifications and screen readers. */
  message: TimelineMessage;
  /** Who is typing now (other users). */
  typing: readonly string[];
  receipt: ReceiptFrame;
  reaction: ReactionFrame;
  booking_status: BookingStatusFrame;
  /** A member came online or went offline. */
  presence: PresenceFrame;
  /** The per-user channel's unread counts. */
  unread: UnreadFrame;
  /** The per-user channel: the user joined or left a booking. */
  membership: MembershipFrame;
  /** When the connection's token expires and the gateway closes it (the answer to `session` and `refresh`). */
  session: SessionFrame;
  /** Whether the chat may be written in, and who blocked whom, changed (see `ChatClient.chatState`). */
  chat_state: ChatStateView;
  /**
   * The server finished checking one of this user's uploads: `ready`, or `rejected` with its `reason`. Also the
   * answer to `attachmentStatus` (then possibly still `pending`).
   */
  attachment: Attachment;
  /** An error frame not about an outbox message (those mark the message `failed`). */
  error: ErrorFrame;
  /** Every valid frame, after the client has handled it. */
  frame: ServerFrame;
}

/** Error codes that will not go away by sending the same message again. */
const PERMANENT = new Set(["VALIDATION_ERROR", "PAYLOAD_TOO_LARGE", "AUTHORIZATION_ERROR", "NOT_FOUND", "BLOCKED", "CHAT_CLOSED"]);
/** The chat state of a server that sends none: anyone may write, nobody is blocked. */
export const WRITABLE_CHAT: ChatStateView = { writable: true, closed: null, read_only_at: null, blocks: [] };
/** Longest message body the server accepts, in characters. */
export const MAX_BODY_CHARS = 4000;
/** Most attachments on one message (the server's `ATTACHMENTS_PER_MESSAGE` default). */
export const MAX_ATTACHMENTS = 10;
/** What a search may say besides its query (`ClientActions["search"]`): `scope`, `before` (a page's `next`), `limit`. */
export type SearchOptions = Omit<ClientActions["search"], "query">;

/** One socket and what belongs to it. */
interface Link {
  socket: Socket;
  token: string;
  openedAt: number;
  /** The first `sync` has been answered completely: the timeline is whole. */
  ready: boolean;
  /** Opened to replace the active link (token or age), promoted when ready. */
  standby: boolean;
  /** Closed by the connect timeout: no answer is not a refusal. */
  timedOut?: boolean;
  /** When `token` was fetched: its life, for "at most once per half-life", is counted from here. */
  tokenAt: number;
  /** When the gateway closes this connection, as the `session` frame says. */
  closesAt?: number;
  /** A `refresh` sent and not yet answered: the token it carries, and the timer that gives up on it. */
  renewal?: { requestId: string; token: string; tokenAt: number; timer: ReturnType<typeof setTimeout> } | undefined;
  connectTimer?: ReturnType<typeof setTimeout>;
  rotateTimer?: ReturnType<typeof setTimeout>;
  keepAlive?: ReturnType<typeof setTimeout>;
  pongDue?: ReturnType<typeof setTimeout> | undefined;
  /** Request ids of this link's open `sync` requests and what they were for. */
  syncs: Map<string, "initial" | "resume" | "older">;
  /** The `synced_at` of the first page of this link's initial sync or resume (`null`: the server sent none). */
  syncedAt?: number | null;
}

/** A new `client_message_id`: 32 hex digits, random (works where `crypto.randomUUID` does not: plain http). */
function newClientMessageId(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

/** The headless chat client. Create, subscribe with `on`, then `start()`. */
export class ChatClient extends Emitter<ChatClientEvents> {
  readonly #o: Required<Omit<ChatClientOptions, "probe" | "bookingId" | "backoff">> & {
    probe?: AccessProbe;
    bookingId?: BookingId | undefined;
    backoff: BackoffOptions;
  };
  #status: ConnectionStatus = { state: "idle", attempt: 0 };
  #timeline = new Timeline();
  #view: TimelineMessage[] = [];
  #outbox: OutboxEntry[];
  #me: string | undefined;
  #link: Link | undefined;
  #standby: Link | undefined;
  /** Bumped by `close()`: asynchronous work of an older epoch does nothing when it resumes. */
  #epoch = 0;
  #retryTimer: ReturnType<typeof setTimeout> | undefined;
  #forceRefresh = false;
  #connecting = false;
  /**
   * Where the next resume starts: the `synced_at` of the first page of the last complete sync. `undefined`
   * before one, or from a server that cannot resume: that server is asked for what follows `#syncedUpTo`.
   */
  #syncedAt: number | undefined;
  /** The id up to which the timeline is known to be whole (for a server without `synced_at`). */
  #syncedUpTo: MessageId | undefined;
  #hasOlder = false;
  #inflight: { cmid: string; requestId: string; timer: ReturnType<typeof setTimeout> } | undefined;
  #requestSeq = 0;
  /**
   * Actions awaiting their answer, by `request_id`: the link they went on, how to settle them, and the kind of
   * frame that answers them also without naming the request (a broadcast such as `chat_state`).
   */
  #pending = new Map<string, { link: Link; settle: (frame: ServerFrame | ChatError) => void; answer?: string | undefined }>();
  /** What the server last said of the chat (see `chatState`). */
  #chatState = WRITABLE_CHAT;
  /**
   * Signed attachment URLs by `{id} {variant}`: the answer (or the request on its way, shared) and the local time
   * until which it is used (`attachmentUrl`). Memory only: a URL is never stored.
   */
  #urls = new Map<string, { url: Promise<string>; until: number }>();
  /** The promises of `send`, by `client_message_id`. */
  #sends = new Map<string, { resolve: (m: ChatMessage) => void; reject: (e: ChatError) => void }>();
  /** `markRead` callers waiting for the position to reach their id. */
  #readWaiters: [MessageId, () => void, (e: ChatError) => void][] = [];
  #typingSentAt = 0;
  #typingIdle: ReturnType<typeof setTimeout> | undefined;
  #typing = new Map<string, ReturnType<typeof setTimeout>>();
  #receipts = new Map<string, MessageId>();
  #presence = new Map<string, MemberPresence>();
  #readSent: MessageId = 0;
  #readWanted: MessageId = 0;
  #serverRefresh = false;
  /** Handshakes refused in a row since the last one that opened (see `handshakeAttempts`). */
  #refusals = 0;
  /** Renewals failed in a row on the current connection: the exponent of the wait before the next. */
  #renewFailures = 0;
  #unwatch: (() => void) | undefined;
  #unwatchOutbox: (() => void) | undefined;

  constructor(options: ChatClientOptions) {
    super();
    this.#o = {
      channel: "chat",
      outbox: memoryOutbox(),
      socket: webSocketFactory,
      network: browserNetwork,
      now: Date.now,
      random: Math.random,
      keepAliveMs: 270_000,
      pongTimeoutMs: 10_000,
      connectTimeoutMs: 15_000,
      maxConnectionMs: 6_900_000,
      tokenRefreshMarginMs: 60_000,
      ackTimeoutMs: 10_000,
      pageSize: 50,
      typingIntervalMs: 3_000,
      typingIdleMs: 5_000,
      typingExpiryMs: 8_000,
      tokenRenewal: options.channel === "user" ? "reconnect" : "action",
      handshakeAttempts: 5,
      ...options,
      backoff: { baseMs: 1_000, capMs: 30_000, ...options.backoff },
    };
    this.#outbox = this.#o.outbox.load();
    this.#render();
  }

  // ---- State for UIs ----

  /** The connection's status. */
  get status(): ConnectionStatus {
    return this.#status;
  }
  /** Stored messages in id order, then the unsent ones. */
  get timeline(): readonly TimelineMessage[] {
    return this.#view;
  }
  /** The user id of the current token (`sub`), once a token has been fetched. */
  get me(): string | undefined {
    return this.#me;
  }
  /** Other users typing now. */
  get typingUsers(): readonly string[] {
    return [...this.#typing.keys()];
  }
  /** Each user's read position (including this user's). */
  get receipts(): ReadonlyMap<string, MessageId> {
    return this.#receipts;
  }
  /** Each member's presence, as the last `history` answer and the `presence` frames since tell it. */
  get presence(): ReadonlyMap<string, MemberPresence> {
    return this.#presence;
  }
  /** Whether older messages exist than the oldest loaded (`loadOlder`). */
  get hasOlder(): boolean {
    return this.#hasOlder;
  }
  /**
   * Whether the chat may be written in and who blocked whom, as the server last said (`chat_state`, or a
   * `history` answer's); `WRITABLE_CHAT` from a server that says nothing. A `BLOCKED` refusal adds a block of
   * this user (its `user_id` `""` and `at` 0: the refusal names neither), a `CHAT_CLOSED` one makes it not
   * `writable`, until the server's next word.
   */
  get chatState(): ChatStateView {
    return this.#chatState;
  }

  // ---- Lifecycle ----

  /**
   * Connects, and keeps connecting until `close()` or a reason to stop (`status.reason`). Also starts a
   * stopped client again, with its timeline and outbox.
   */
  start(): void {
    if (this.#status.state !== "idle" && this.#status.state !== "stopped") return;
    this.#refusals = this.#renewFailures = 0;
    this.#unwatch = this.#o.network.watch(
      () => this.#onNetworkBack(),
      () => this.#checkAlive(),
    );
    this.#unwatchOutbox = this.#o.outbox.watch?.((entries) => this.#adopt(entries));
    this.#setStatus({ state: "connecting", attempt: 0 });
    void this.#connect(false);
  }

  /**
   * Connects again now: a stopped client (whatever the reason: signed in again, a "Try again" button) starts
   * again; one waiting to reconnect skips the wait.
   */
  reconnect(): void {
    if (this.#status.state === "idle" || this.#status.state === "stopped") this.start();
    else this.reconnectNow();
  }

  /** Disconnects until `start()` or `reconnect()`. Unsent messages stay in the outbox for the next start. */
  close(): void {
    this.#stop("closed");
  }

  /** Skips the wait before the next reconnect attempt. */
  reconnectNow(): void {
    if (this.#status.state === "reconnecting" || this.#status.state === "offline") {
      clearTimeout(this.#retryTimer);
      this.#setStatus({ state: "connecting", attempt: this.#status.attempt });
      void this.#connect(false);
    }
  }

  // ---- Actions ----
  // Each returns a promise settled by the server's answer to it (its `request_id`), rejected with a `ChatError`.

  /**
   * Writes a message: stored in the outbox at once, delivered as soon as a connection allows, exactly once.
   * The promise resolves with the stored message when the server's copy comes back (recognised by its
   * `client_message_id`, live or in a resumed page, whenever that is), and rejects when the server refuses it
   * for good (the message stays, failed, for `retry` or `discard`) or it is discarded. It carries the
   * `client_message_id` at once (absent for an empty or overlong body, refused with `VALIDATION_ERROR`).
   * `attachments` (the user's `ready` ones, at most `MAX_ATTACHMENTS`) go with it, sent as their ids; the body
   * may then be empty.
   */
  send(body: string, attachments: readonly Attachment[] = []): Promise<ChatMessage> & { clientMessageId?: string } {
    if ((!body.trim() && !attachments.length) || [...body].length > MAX_BODY_CHARS || attachments.length > MAX_ATTACHMENTS) {
      return Promise.reject(new ChatError("VALIDATION_ERROR", "empty or too long"));
    }
    const entry: OutboxEntry = { client_message_id: newClientMessageId(), body, created_at: this.#o.now() };
    if (this.#me !== undefined) entry.sender_id = this.#me;
    if (attachments.length) entry.attachments = [...attachments];
    this.#outbox.push(entry);
    this.#o.outbox.put(entry);
    // The next keystroke announces typing again at once.
    this.#typingSentAt = 0;
    clearTimeout(this.#typingIdle);
    const promise = this.#whenStored(entry.client_message_id);
    this.#render();
    this.#pump();
    return Object.assign(promise, { clientMessageId: entry.client_message_id });
  }

  /** Sends a failed message again, with its original `client_message_id`; settled as `send`'s. */
  retry(clientMessageId: string): Promise<ChatMessage> {
    const entry = this.#outbox.find((e) => e.client_message_id === clientMessageId);
    if (!entry?.failed) return Promise.reject(new ChatError("NOT_FOUND", "not failed"));
    delete entry.failed;
    this.#o.outbox.put(entry);
    const promise = this.#whenStored(clientMessageId);
    this.#render();
    this.#pump();
    return promise;
  }

  /** Gives up on an unsent (or failed) message; its `send` promise rejects with `DISCARDED`. */
  discard(clientMessageId: string): void {
    if (this.#inflight?.cmid === clientMessageId) this.#clearInflight();
    this.#outbox = this.#outbox.filter((e) => e.client_message_id !== clientMessageId);
    this.#o.outbox.remove(clientMessageId);
    this.#sends.get(clientMessageId)?.reject(new ChatError("DISCARDED", "discarded"));
    this.#sends.delete(clientMessageId);
    this.#render();
    this.#pump();
  }

  /** Toggles a reaction; resolves with the `reaction` answer (`added`, the message's `reactions`). Not queued. */
  react(messageId: MessageId, emoji: string): Promise<ReactionFrame> {
    return this.#request("react", { message_id: messageId, emoji });
  }

  /**
   * Marks everything up to `messageId` read; sent once connected, never backwards. Resolves when the server
   * has the user's position there (or beyond).
   */
  markRead(messageId: MessageId): Promise<void> {
    return new Promise((resolve, reject) => {
      if (messageId <= (this.#receipts.get(this.#me ?? "") ?? 0)) return resolve();
      this.#readWaiters.push([messageId, resolve, reject]);
      if (messageId > this.#readWanted) this.#readWanted = messageId;
      this.#flushRead();
    });
  }

  /** Call on every keystroke: announces typing, throttled, and its end after a pause (the server answers neither). */
  typing(): void {
    const now = this.#o.now();
    if (now - this.#typingSentAt >= this.#o.typingIntervalMs && this.#sendAction("typing", { is_typing: true })) {
      this.#typingSentAt = now;
    }
    clearTimeout(this.#typingIdle);
    this.#typingIdle = setTimeout(() => this.stopTyping(), this.#o.typingIdleMs);
  }

  /** Announces that the user stopped typing (blur, cleared input). */
  stopTyping(): void {
    clearTimeout(this.#typingIdle);
    if (this.#typingSentAt) this.#sendAction("typing", { is_typing: false });
    this.#typingSentAt = 0;
  }

  /** Loads the page of messages before the oldest one loaded; resolves once it is in the timeline. */
  loadOlder(): Promise<void> {
    const oldest = this.#timeline.oldest;
    if (!this.#hasOlder || oldest === undefined) return Promise.reject(new ChatError("NOT_FOUND", "no older"));
    return this.#request("sync", { before_message_id: oldest, limit: this.#o.pageSize }, "older").then(() => {});
  }

  /**
   * Loads earlier pages until message `messageId` is in the timeline (to show a search result), each page as
   * `loadOlder` loads it, so that the timeline stays whole from its oldest message to the newest; resolves at once
   * when the message is there already. Rejects with `NOT_FOUND` when the history has no such message, and as
   * `loadOlder` does (`NOT_CONNECTED`, `DISCONNECTED`: the pages loaded so far stay).
   */
  async loadUntil(messageId: MessageId): Promise<void> {
    while (!this.#timeline.get(messageId)) await this.loadOlder();
  }

  /**
   * Searches the booking's messages (`scope: "all"`: every booking of the user) for `query`; resolves with the
   * `search_results` answer: `results` newest first, `has_more`, and `next`, the `before` of the next page.
   * `limit` 1 to 50 (the server's default 20). Rejects with the server's `VALIDATION_ERROR` for a query it does
   * not take (empty once trimmed, over 200 characters, no letter or digit: the server's rule, not repeated here).
   * Not queued. To show a result: `loadUntil(result.message_id)`.
   */
  search(query: string, options: SearchOptions = {}): Promise<SearchResultsFrame> {
    return this.#request("search", { ...options, query });
  }

  /**
   * Edits one of the user's messages (the server allows it within its edit window); every member then gets
   * `message_updated`. Resolves with the message as edited. Not queued.
   */
  edit(messageId: MessageId, body: string): Promise<ChatMessage> {
    return this.#request<MessageUpdatedFrame>("edit_message", { message_id: messageId, body }).then((f) => f.message);
  }

  /**
   * Deletes one of the user's messages (within the server's edit window); it stays in the timeline as a
   * tombstone (`deleted`, empty body). Resolves with the tombstone. Not queued.
   */
  remove(messageId: MessageId): Promise<ChatMessage> {
    return this.#request<MessageUpdatedFrame>("delete_message", { message_id: messageId }).then((f) => f.message);
  }

  /**
   * Blocks the other member of the booking: they can no longer write in its chat (the user still can).
   * Resolves with the chat state the server answers (`chat_state`). Not queued.
   */
  block(): Promise<ChatStateView> {
    return this.#request("block", {}, "chat_state").then(() => this.#chatState);
  }

  /** Lifts the user's block of the other member; resolves with the chat state the server answers. Not queued. */
  unblock(): Promise<ChatStateView> {
    return this.#request("unblock", {}, "chat_state").then(() => this.#chatState);
  }

  /**
   * Reports a message (`message_id`) or the other member (without) to the marketplace: `reason` one of
   * `REPORT_REASONS`, `details` at most `MAX_REPORT_DETAILS_CHARS` characters (else `VALIDATION_ERROR`).
   * Resolves with the report's id (`report_received`). Not queued.
   */
  report(report: ClientActions["report"]): Promise<string> {
    return this.#request<ReportReceivedFrame>("report", report).then((f) => f.report_id);
  }

  /**
   * Asks to upload a file (`upload_attachment`, with what it claims to be: `name`, `type`, `size`). Resolves
   * with the `pending` attachment and the signed form to POST it with (`Uploads` does); rejects with
   * `PAYLOAD_TOO_LARGE` (over the server's limit) or `VALIDATION_ERROR` (a type not allowed, attachments off).
   * When the server has checked the upload, the `attachment` event says `ready` or `rejected`. Not queued.
   */
  requestUpload(file: { name: string; type: string; size: number }): Promise<UploadFrame> {
    return this.#request("upload_attachment", { name: file.name, content_type: file.type, size: file.size });
  }

  /**
   * How an attachment is now (`get_attachment`): the sender's own upload in any state, or one on a message.
   * Resolves with it (`pending`, `ready`, or `rejected` with its `reason`), also announced as the `attachment`
   * event, as the verdict's push is; for a verdict whose push was lost (a dropped connection; `Uploads` asks
   * by itself). Rejects with `NOT_FOUND` (unknown, or not the caller's to see), `NOT_CONNECTED`... Not queued.
   */
  attachmentStatus(attachmentId: string): Promise<Attachment> {
    return this.#request<AttachmentFrame>("get_attachment", { attachment_id: attachmentId }).then((f) => f.attachment);
  }

  /**
   * A signed URL of an attachment's `thumbnail` or `original`, to show it now. The answer is kept in memory per
   * attachment and variant until shortly before it expires (a tenth of its life, at most 30 s; counted from the
   * server's clock, so a skewed device does not matter), and one request serves every caller meanwhile; after
   * that it is asked again. Never stored. Rejects with `NOT_FOUND` (unknown to the server), `NOT_CONNECTED`...
   */
  attachmentUrl(attachmentId: string, variant: AttachmentVariant = "thumbnail"): Promise<string> {
    const key = `${attachmentId} ${variant}`;
    const now = this.#o.now();
    for (const [k, v] of this.#urls) if (v.until <= now) this.#urls.delete(k);
    const held = this.#urls.get(key);
    if (held) return held.url;
    // Until answered, the request itself is kept: callers meanwhile share it.
    const entry = { until: Infinity, url: Promise.resolve("") };
    entry.url = this.#request<AttachmentUrlFrame>("attachment_url", { attachment_id: attachmentId, variant }).then(
      (f) => {
        const life = f.expires_at - f.timestamp;
        entry.until = this.#o.now() + life - Math.min(30_000, life / 10);
        return f.url;
      },
      (error: unknown) => {
        if (this.#urls.get(key) === entry) this.#urls.delete(key);
        throw error;
      },
    );
    this.#urls.set(key, entry);
    return entry.url;
  }

  /** A promise settled with the server's copy of an outbox message, or its refusal. */
  #whenStored(cmid: string): Promise<ChatMessage> {
    return new Promise((resolve, reject) => this.#sends.set(cmid, { resolve, reject }));
  }

  /**
   * Sends an action on the ready link with a `request_id` of its own, settled by the answer naming it (or by
   * the next frame of type `answer` naming none): an error frame rejects, anything else resolves. No link, a
   * link that closes first, or no answer in time reject.
   */
  #request<F extends ServerFrame>(action: ClientAction, data: ClientActions[ClientAction], answer?: "older" | ServerFrameType): Promise<F> {
    const link = this.#link;
    if (!link?.ready) return Promise.reject(new ChatError("NOT_CONNECTED", "not connected"));
    const id = `a${++this.#requestSeq}`;
    return new Promise<F>((resolve, reject) => {
      const timer = setTimeout(() => settle(new ChatError("TIMEOUT", "no answer")), this.#o.ackTimeoutMs);
      const settle = (frame: ServerFrame | ChatError) => {
        clearTimeout(timer);
        this.#pending.delete(id);
        if (frame instanceof ChatError) reject(frame);
        else if (frame.type === "error") reject(new ChatError(frame.error.code, frame.error.message));
        else resolve(frame as F);
      };
      this.#pending.set(id, { link, settle, answer });
      if (answer === "older") link.syncs.set(id, answer);
      this.#sendOn(link, action as "ping", data as ClientActions["ping"], id);
    });
  }

  /** Rejects the requests sent on `link` (it closed before they were answered). */
  #abandon(link: Link): void {
    for (const p of [...this.#pending.values()]) if (p.link === link) p.settle(new ChatError("DISCONNECTED", "closed first"));
  }

  // ---- Connection ----

  async #connect(standby: boolean): Promise<void> {
    // One attempt at a time; a standby attempt in progress becomes the main one if the link goes.
    if (this.#connecting) return;
    this.#connecting = true;
    const epoch = this.#epoch;
    const force = this.#forceRefresh || standby;
    this.#forceRefresh = false;
    let token: string;
    try {
      token = await this.#freshToken(force);
    } catch (error) {
      this.#connecting = false;
      if (epoch !== this.#epoch) return;
      if (isSignedOut(error)) return this.#stop("signed_out");
      if (standby && this.#link) this.#renewFailed(this.#link);
      else this.#scheduleRetry();
      return;
    }
    this.#connecting = false;
    if (epoch !== this.#epoch || (!standby && this.#link)) return;
    // The link this one was to replace is gone meanwhile: this one is the connection now.
    if (standby && !this.#link) standby = false;
    const query = new URLSearchParams();
    if (this.#o.bookingId !== undefined) query.set("booking_id", String(this.#o.bookingId));
    if (this.#o.channel !== "chat") query.set("type", this.#o.channel);
    const url = `${this.#o.url}${this.#o.url.includes("?") ? "&" : "?"}${query}`;
    let opened = false;
    const link: Link = {
      token,
      tokenAt: this.#o.now(),
      openedAt: 0,
      ready: false,
      standby,
      syncs: new Map(),
      socket: this.#o.socket(url, ["chat.v1", `bearer.${token}`], {
        onOpen: () => {
          opened = true;
          this.#refusals = 0;
          link.openedAt = this.#o.now();
          clearTimeout(link.connectTimer);
          this.#armKeepAlive(link);
          // Only chat connections have a timeline to resume; the others are whole once open.
          // An empty timeline asks for the latest page; one with messages resumes.
          if (this.#o.channel === "chat") this.#sync(link, this.#timeline.oldest === undefined ? "initial" : "resume");
          else this.#ready(link);
        },
        onMessage: (text) => this.#onText(link, text),
        onClose: (close) => this.#onClose(link, close),
      }),
    };
    link.connectTimer = setTimeout(() => {
      if (opened) return;
      link.timedOut = true;
      link.socket.close(4000, "connect timeout");
    }, this.#o.connectTimeoutMs);
    if (standby) this.#standby = link;
    else this.#link = link;
  }

  /**
   * Asks the token provider, giving up after `connectTimeoutMs`: a provider that hangs must not stall reconnects.
   * `null` becomes a `SignedOutError`.
   */
  async #askToken(forceRefresh: boolean): Promise<string> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error("token: no answer")), this.#o.connectTimeoutMs);
    });
    const token = await Promise.race([this.#o.token({ forceRefresh }), timeout]).finally(() => clearTimeout(timer));
    if (token === null) throw new SignedOutError();
    if (typeof token !== "string") throw new Error("token: none");
    return token;
  }

  /** A token with life left in it: asks again with `forceRefresh` when the provider's is (nearly) expired. */
  async #freshToken(force: boolean): Promise<string> {
    let token = await this.#askToken(force);
    let claims = readClaims(token);
    const stale = () => claims.expiresAt !== undefined && claims.expiresAt - this.#o.now() < 5_000;
    if (stale() && !force) {
      token = await this.#askToken(true);
      claims = readClaims(token);
    }
    if (stale()) throw new Error("token: expired");
    if (claims.sub !== undefined && claims.sub !== this.#me) {
      this.#me = claims.sub;
      // Entries written before the user was known belong to this user.
      for (const e of this.#outbox) {
        if (e.sender_id !== undefined) continue;
        e.sender_id = claims.sub;
        this.#o.outbox.put(e);
      }
      this.#render();
    }
    return token;
  }

  #onClose(link: Link, close: SocketClose): void {
    this.#clear(link);
    this.#abandon(link);
    // 4403: removed from the booking (the direct WebSocket's close code; the error frame may not have arrived).
    if (close.code === 4403 && this.#status.state !== "stopped") return this.#stop("removed");
    if (link === this.#standby) {
      this.#standby = undefined;
      // The replacement failed while the link it was to replace still works: try again later.
      if (this.#link) this.#renewFailed(this.#link);
      return;
    }
    if (link !== this.#link) return; // retired by us
    this.#link = undefined;
    this.#clearInflight();
    if (this.#status.state === "stopped") return;
    // 1008: the token expired on an open connection (direct WebSocket); a fresh one is needed.
    if (close.opened && close.code === 1008) this.#forceRefresh = true;
    const replacement = this.#standby;
    if (replacement || this.#connecting) {
      // A replacement is on its way: it becomes the connection.
      if (replacement) {
        replacement.standby = false;
        this.#link = replacement;
        this.#standby = undefined;
      }
      this.#setStatus({ state: "connecting", attempt: 0 });
      return;
    }
    if (close.opened) this.#scheduleRetry();
    else void this.#refused(link, close.status);
  }

  /**
   * A handshake that failed: decides by its meaning, asking the probe when the transport could not see it.
   * A refusal a fresh token may cure (401, or one nobody could read) is retried with a fresh token, a bounded
   * number of times in a row; a passing one (a timeout, a backend that answers or cannot be reached) forever.
   */
  async #refused(link: Link, status: number | undefined): Promise<void> {
    const epoch = this.#epoch;
    // No answer in time, or a device that knows it is offline: not a refusal.
    let passing = link.timedOut === true || !this.#o.network.isOnline();
    if (status === undefined && this.#o.probe && !passing) {
      try {
        status = await this.#o.probe(link.token);
      } catch {
        passing = true; // the backend is unreachable too
      }
      if (epoch !== this.#epoch) return;
    }
    if (status === 403) return this.#stop("forbidden");
    if (status === 404) return this.#stop("not_found");
    if (!passing && (status === undefined || status === 401)) {
      this.#forceRefresh = true;
      if (++this.#refusals >= this.#o.handshakeAttempts) return this.#stop("handshake_refused");
    }
    this.#scheduleRetry();
  }

  #retryDelay(): number {
    return fullJitter(this.#status.attempt, this.#o.backoff, this.#o.random);
  }

  #scheduleRetry(): void {
    if (this.#status.state === "stopped") return;
    clearTimeout(this.#retryTimer);
    const attempt = this.#status.state === "online" ? 0 : this.#status.attempt;
    const delay = fullJitter(attempt, this.#o.backoff, this.#o.random);
    const offline = !this.#o.network.isOnline();
    // Offline, the `online` event calls us back; the timer (at the ceiling) is a safety net for browsers
    // whose online flag is wrong.
    const wait = offline ? this.#o.backoff.capMs : delay;
    const status: ConnectionStatus = { state: offline ? "offline" : "reconnecting", attempt: attempt + 1 };
    if (!offline) status.retryAt = this.#o.now() + wait;
    this.#setStatus(status);
    this.#retryTimer = setTimeout(() => {
      this.#setStatus({ state: "connecting", attempt: this.#status.attempt });
      void this.#connect(false);
    }, wait);
  }

  #onNetworkBack(): void {
    if (this.#status.state === "reconnecting" || this.#status.state === "offline") this.reconnectNow();
    else this.#checkAlive();
  }

  /** After a network change an open socket may be dead without knowing it: a ping tells. */
  #checkAlive(): void {
    const link = this.#link;
    if (link?.ready && link.pongDue === undefined) this.#ping(link);
  }

  #stop(reason: StopReason): void {
    this.#epoch++;
    this.#connecting = false;
    clearTimeout(this.#retryTimer);
    this.#unwatch?.();
    this.#unwatchOutbox?.();
    this.#unwatch = this.#unwatchOutbox = undefined;
    this.#setStatus({ state: "stopped", attempt: 0, reason });
    for (const link of [this.#link, this.#standby]) {
      if (!link) continue;
      this.#clear(link);
      this.#abandon(link);
      link.socket.close(1000, "closed");
    }
    this.#link = this.#standby = undefined;
    this.#clearInflight();
    this.#setTypingUsers(new Map());
  }

  /** The link is whole: promote a standby, reset the backoff, deliver what waits. */
  #ready(link: Link): void {
    link.ready = true;
    if (link.standby) {
      const old = this.#link;
      this.#standby = undefined;
      link.standby = false;
      this.#link = link;
      if (old) {
        this.#clear(old);
        old.socket.close(1000, "replaced");
      }
      this.#clearInflight(); // resent on the new link; idempotent
    }
    clearTimeout(this.#retryTimer);
    this.#renewFailures = 0;
    this.#setStatus({ state: "online", attempt: 0 });
    if (this.#o.tokenRenewal !== "none") this.#scheduleRenewal(link);
    if (this.#o.tokenRenewal === "action") this.#sendOn(link, "session", {});
    this.#pump();
    this.#flushRead();
  }

  /** Moves a user's read position forward (never back); whether it moved. */
  #receipted(user: string, id: MessageId): boolean {
    if (user === this.#me) {
      this.#readSent = Math.max(this.#readSent, id);
      this.#readWaiters = this.#readWaiters.filter(([w, resolve]) => w > id || void resolve());
    }
    if (id <= (this.#receipts.get(user) ?? 0)) return false;
    this.#receipts.set(user, id);
    return true;
  }

  /** When the gateway's age limit closes the link (less five minutes, to replace it unnoticed). */
  #agedAt(link: Link): number {
    return link.closesAt !== undefined ? link.closesAt - 300_000 : link.openedAt + this.#o.maxConnectionMs;
  }

  /**
   * Schedules the link's renewal before its token expires (`tokenRefreshMarginMs` before, but never before
   * half its life has passed: at most one renewal per half-life) or the gateway's age limit cuts it.
   */
  #scheduleRenewal(link: Link): void {
    let at = this.#agedAt(link);
    const { expiresAt } = readClaims(link.token);
    if (expiresAt !== undefined) {
      const halfLife = (expiresAt - link.tokenAt) / 2;
      at = Math.min(at, expiresAt - Math.min(this.#o.tokenRefreshMarginMs, halfLife));
    }
    this.#scheduleRotation(link, Math.max(1_000, at - this.#o.now()));
  }

  #scheduleRotation(link: Link, delay: number): void {
    clearTimeout(link.rotateTimer);
    link.rotateTimer = setTimeout(() => void this.#rotate(link), delay);
  }

  /**
   * Renews the link, unnoticed by the user: `refresh` with a fresh token on a server that answers `session`,
   * else (and at the age limit) a new connection that replaces this one once it is whole.
   */
  async #rotate(link: Link): Promise<void> {
    if (link !== this.#link || this.#standby || link.renewal) return;
    if (!this.#serverRefresh || this.#o.now() >= this.#agedAt(link)) return void this.#connect(true);
    const epoch = this.#epoch;
    let token: string;
    try {
      token = await this.#freshToken(true);
    } catch (error) {
      if (epoch !== this.#epoch) return;
      if (isSignedOut(error)) return this.#stop("signed_out");
      return this.#renewFailed(link);
    }
    if (link !== this.#link) return;
    const requestId = `r${++this.#requestSeq}`;
    // An unanswered refresh counts as refused.
    const timer = setTimeout(() => this.#renewFailed(link), this.#o.ackTimeoutMs);
    link.renewal = { requestId, token, tokenAt: this.#o.now(), timer };
    this.#sendOn(link, "refresh", { token }, requestId);
  }

  /** The `session` frame: the answer to `session`, or to the link's pending `refresh` (its new token holds). */
  #onSession(link: Link, frame: SessionFrame): void {
    this.#serverRefresh = true;
    link.closesAt = frame.closes_at;
    const renewal = link.renewal;
    if (renewal && (frame.request_id === undefined || frame.request_id === renewal.requestId)) {
      clearTimeout(renewal.timer);
      link.renewal = undefined;
      link.token = renewal.token;
      link.tokenAt = renewal.tokenAt;
      this.#renewFailures = 0;
    }
    if (link === this.#link && !link.renewal && !this.#standby) this.#scheduleRenewal(link);
  }

  /**
   * A renewal failed (no token, a refused or unanswered `refresh`, a replacement that did not open): tried
   * again after a wait longer than the last, while the token lasts; past that the link is closed when its
   * token expires, and the client reconnects as after any drop.
   */
  #renewFailed(link: Link): void {
    clearTimeout(link.renewal?.timer);
    link.renewal = undefined;
    if (link !== this.#link) return;
    const now = this.#o.now();
    const delay = equalJitter(this.#renewFailures++, this.#o.backoff, this.#o.random);
    const { expiresAt } = readClaims(link.token);
    if (expiresAt === undefined || now + delay < expiresAt) return this.#scheduleRotation(link, delay);
    clearTimeout(link.rotateTimer);
    link.rotateTimer = setTimeout(() => {
      this.#forceRefresh = true;
      link.socket.close(4003, "token expired");
    }, expiresAt - now);
  }

  /** Clears a link's timers. */
  #clear(link: Link): void {
    for (const t of [link.connectTimer, link.rotateTimer, link.keepAlive, link.pongDue, link.renewal?.timer]) clearTimeout(t);
    link.pongDue = link.renewal = undefined;
  }

  // ---- Keep-alive ----

  #armKeepAlive(link: Link): void {
    clearTimeout(link.keepAlive);
    link.keepAlive = setTimeout(() => this.#ping(link), this.#o.keepAliveMs);
  }

  #ping(link: Link): void {
    this.#sendOn(link, "ping", {});
    clearTimeout(link.pongDue);
    link.pongDue = setTimeout(() => link.socket.close(4001, "no pong"), this.#o.pongTimeoutMs);
  }

  // ---- Sending ----

  #sendOn<A extends ClientAction>(link: Link, action: A, data: ClientActions[A], requestId?: string): void {
    const frame: { action: A; data?: ClientActions[A]; request_id?: string } = { action };
    if (Object.keys(data).length) frame.data = data;
    if (requestId !== undefined) frame.request_id = requestId;
    link.socket.send(JSON.stringify(frame));
    this.#armKeepAlive(link);
  }

  /** Sends on the active link if it is ready; `false` otherwise. */
  #sendAction<A extends ClientAction>(action: A, data: ClientActions[A]): boolean {
    const link = this.#link;
    if (!link?.ready) return false;
    this.#sendOn(link, action, data);
    return true;
  }

  /**
   * Asks for history. A resume asks for every message from the oldest held on that changed since the last
   * complete sync (edits, tombstones, reactions, new messages), or, from a server without `synced_at`, for the
   * messages after `#syncedUpTo`; `data` continues it from where its last page ended.
   */
  #sync(link: Link, purpose: "initial" | "resume" | "older", data: ClientActions["sync"] = {}): void {
    const requestId = `s${++this.#requestSeq}`;
    link.syncs.set(requestId, purpose);
    if (purpose === "resume") {
      data =
        this.#syncedAt === undefined
          ? { after_message_id: this.#syncedUpTo ?? 0 }
          : { from_message_id: this.#timeline.oldest ?? 0, changed_since: this.#syncedAt, ...data };
    }
    if (purpose === "initial") data = { limit: this.#o.pageSize };
    this.#sendOn(link, "sync", data, requestId);
  }

  /** Delivers the outbox one message at a time, so that messages are stored in the order they were written. */
  #pump(): void {
    const link = this.#link;
    if (!link?.ready || this.#inflight || this.#o.channel !== "chat") return;
    const entry = this.#outbox.find((e) => !e.failed && (e.sender_id === undefined || e.sender_id === this.#me));
    if (!entry) return;
    const requestId = `m${++this.#requestSeq}`;
    this.#inflight = {
      cmid: entry.client_message_id,
      requestId,
      // No answer in time: send it again (the same client_message_id, so at most one copy is stored), and
      // find out whether the connection is still alive.
      timer: setTimeout(() => {
        this.#clearInflight();
        this.#checkAlive();
        this.#pump();
      }, this.#o.ackTimeoutMs),
    };
    const data: ClientActions["send_message"] = { body: entry.body, client_message_id: entry.client_message_id };
    if (entry.attachments?.length) data.attachments = entry.attachments.map((a) => a.id);
    this.#sendOn(link, "send_message", data, requestId);
  }

  #clearInflight(): void {
    clearTimeout(this.#inflight?.timer);
    this.#inflight = undefined;
  }

  #flushRead(): void {
    const id = this.#readWanted;
    if (id <= this.#readSent || !this.#link?.ready) return;
    this.#readSent = id;
    // The answer is a `receipt`, which resolves the waiters (`#receipted`); a refusal rejects theirs, a lost
    // answer sends the position again on the next connection.
    this.#request("read", { message_id: id }).catch((e: ChatError) => {
      if (e.code === "DISCONNECTED" || e.code === "TIMEOUT") this.#readSent = this.#receipts.get(this.#me ?? "") ?? 0;
      else this.#readWaiters = this.#readWaiters.filter(([w, , reject]) => w > id || void reject(e));
    });
  }

  /**
   * Takes over messages a closed page left unsent (see `OutboxStore.watch`): shown and delivered here, in the
   * order written; one the server already has just leaves the outbox.
   */
  #adopt(entries: OutboxEntry[]): void {
    for (const entry of entries) {
      const cmid = entry.client_message_id;
      if (this.#outbox.some((e) => e.client_message_id === cmid)) continue;
      if (entry.sender_id === undefined && this.#me !== undefined) entry.sender_id = this.#me;
      const stored = this.#view.some((m) => m.id !== undefined && m.client_message_id === cmid && m.sender_id === entry.sender_id);
      if (stored) this.#o.outbox.remove(cmid);
      else this.#outbox.push(entry);
    }
    this.#outbox.sort((a, b) => a.created_at - b.created_at);
    this.#render();
    this.#pump();
  }

  // ---- Receiving ----

  #onText(link: Link, text: string): void {
    const frame = parseServerFrame(text);
    // Any frame proves the link alive.
    clearTimeout(link.pongDue);
    link.pongDue = undefined;
    if (!frame) return;
    let changed = false;
    switch (frame.type) {
      case "message":
      case "message_updated": {
        const result = this.#timeline.upsert(frame.message);
        changed = this.#acknowledge(frame.message) || result !== "same";
        if (!link.syncs.size || link.ready) this.#advance(frame.message.id);
        if (frame.type === "message") this.#typingStopped(frame.message.sender_id);
        if (result === "new" && frame.type === "message" && frame.message.sender_id !== this.#me) {
          changed = false;
          this.#render();
          const item = this.#view.find((m) => m.id === frame.message.id);
          if (item) this.emit("message", item);
        }
        break;
      }
      case "history": {
        const purpose = frame.request_id !== undefined ? link.syncs.get(frame.request_id) : undefined;
        // Read state and presence as the server has them now: "seen" shows at once after a reload. The answer's
        // read positions replace the receipts (a position pushed meanwhile is not moved back).
        if (frame.read_positions) {
          const old = this.#receipts;
          this.#receipts = new Map();
          for (const r of frame.read_positions) this.#receipted(r.user_id, Math.max(r.last_read_message_id, old.get(r.user_id) ?? 0));
          changed = true;
        }
        if (frame.presence) {
          this.#presence = new Map(frame.presence.map((p) => [p.user_id, p]));
          changed = true;
        }
        if (frame.chat_state) this.#setChatState(frame.chat_state);
        // Replaced by id: the server's state of each message (a copy older than one held is ignored).
        for (const m of frame.messages) {
          changed = this.#timeline.upsert(m) !== "same" || changed;
          changed = this.#acknowledge(m) || changed;
        }
        if (!purpose || frame.request_id === undefined) break;
        link.syncs.delete(frame.request_id);
        if (purpose === "older") {
          this.#hasOlder = frame.has_more;
          changed = true;
          break;
        }
        if (purpose === "initial") this.#hasOlder = frame.has_more;
        if (link.syncedAt === undefined) link.syncedAt = frame.synced_at ?? null;
        const last = frame.messages[frame.messages.length - 1];
        if (last) this.#advance(last.id);
        if (purpose === "resume" && frame.has_more && last) {
          this.#sync(link, "resume", { from_message_id: last.id + 1 });
          break;
        }
        // Complete: the next resume asks for what changed since this one began (never since a pushed frame,
        // which says nothing of the frames that did not arrive).
        this.#syncedAt = link.syncedAt ?? undefined;
        // Live messages that arrived while the pages came in are part of the whole now.
        const newest = this.#timeline.newest;
        if (newest !== undefined) this.#advance(newest);
        this.#render();
        changed = false;
        this.#ready(link);
        break;
      }
      case "reaction": {
        const m = this.#timeline.get(frame.message_id);
        if (m) changed = this.#timeline.upsert({ ...m, reactions: frame.reactions }) !== "same";
        this.emit("reaction", frame);
        break;
      }
      case "receipt": {
        this.#receipted(frame.user_id, frame.last_read_message_id);
        this.emit("receipt", frame);
        changed = true;
        break;
      }
      case "typing":
        if (frame.user_id !== this.#me) {
          if (frame.is_typing) this.#typingStarted(frame.user_id);
          else this.#typingStopped(frame.user_id);
        }
        break;
      case "error":
        this.#onError(link, frame);
        break;
      case "session":
        this.#onSession(link, frame);
        this.emit("session", frame);
        break;
      case "booking_status":
        this.emit("booking_status", frame);
        break;
      case "presence":
        this.#presence.set(frame.user_id, { user_id: frame.user_id, online: frame.online, last_seen_at: frame.last_seen_at });
        this.emit("presence", frame);
        changed = true;
        break;
      case "unread":
        this.emit("unread", frame);
        break;
      case "membership":
        this.emit("membership", frame);
        break;
      case "chat_state":
        this.#setChatState({ writable: frame.writable, closed: frame.closed, read_only_at: frame.read_only_at, blocks: frame.blocks });
        break;
      case "attachment":
        this.emit("attachment", frame.attachment);
        break;
    }
    if (changed) this.#render();
    if (frame.request_id !== undefined) this.#pending.get(frame.request_id)?.settle(frame);
    else for (const p of this.#pending.values()) if (p.answer === frame.type) p.settle(frame);
    this.emit("frame", frame);
  }

  #onError(link: Link, frame: ErrorFrame): void {
    const { code } = frame.error;
    // The marketplace removed the user: the server closes the connection and refuses the next.
    if (code === "REMOVED_FROM_BOOKING" && this.#o.channel !== "user") this.#stop("removed");
    if (code === "TOKEN_EXPIRED" || code === "AUTHENTICATION_ERROR") {
      // The server closes this connection; come back with a fresh token.
      this.#forceRefresh = true;
    }
    // A refusal that says what the chat state is, before (or without) the `chat_state` frame that tells it.
    const state = this.#chatState;
    if (code === "CHAT_CLOSED") this.#setChatState({ ...state, writable: false });
    if (code === "BLOCKED") this.#setChatState({ ...state, blocks: [...state.blocks.filter((b) => b.user_id), { user_id: "", blocked_user_id: this.#me ?? "", at: 0 }] });
    if (link.renewal && frame.request_id === link.renewal.requestId) return this.#renewFailed(link);
    const purpose = frame.request_id !== undefined ? link.syncs.get(frame.request_id) : undefined;
    if (purpose && frame.request_id !== undefined) {
      link.syncs.delete(frame.request_id);
      // A sync that failed leaves the timeline incomplete: start over on a new connection.
      if (purpose !== "older") link.socket.close(4002, "sync failed");
    }
    const inflight = this.#inflight;
    if (inflight && frame.request_id === inflight.requestId) {
      this.#clearInflight();
      const entry = this.#outbox.find((e) => e.client_message_id === inflight.cmid);
      if (entry && PERMANENT.has(code)) {
        entry.failed = { code, message: frame.error.message };
        this.#sends.get(inflight.cmid)?.reject(new ChatError(code, frame.error.message));
        this.#sends.delete(inflight.cmid);
        this.#o.outbox.put(entry);
        this.#render();
        this.#pump();
      } else {
        // Rate limited or a passing failure: the same message again, after a pause.
        const timer = setTimeout(() => {
          this.#clearInflight();
          this.#pump();
        }, Math.max(500, this.#retryDelay()));
        this.#inflight = { ...inflight, timer };
      }
      return;
    }
    // The answer to one of this client's actions settles its promise (`#onText`); events are for the rest.
    if (frame.request_id === undefined || !this.#pending.has(frame.request_id)) this.emit("error", frame);
  }

  /** The server stored one of this user's outbox messages: it leaves the outbox. */
  #acknowledge(m: ChatMessage): boolean {
    const cmid = m.client_message_id;
    if (cmid === null || m.sender_id !== this.#me) return false;
    this.#sends.get(cmid)?.resolve(m);
    this.#sends.delete(cmid);
    const before = this.#outbox.length;
    this.#outbox = this.#outbox.filter((e) => e.client_message_id !== cmid);
    if (this.#outbox.length === before) return false;
    this.#o.outbox.remove(cmid);
    if (this.#inflight?.cmid === cmid) {
      this.#clearInflight();
      this.#pump();
    }
    return true;
  }

  #advance(id: MessageId): void {
    if (this.#syncedUpTo === undefined || id > this.#syncedUpTo) this.#syncedUpTo = id;
  }

  #typingStarted(user: string): void {
    const next = new Map(this.#typing);
    clearTimeout(next.get(user));
    next.set(
      user,
      setTimeout(() => this.#typingStopped(user), this.#o.typingExpiryMs),
    );
    this.#setTypingUsers(next, !this.#typing.has(user));
  }

  #typingStopped(user: string): void {
    if (!this.#typing.has(user)) return;
    const next = new Map(this.#typing);
    clearTimeout(next.get(user));
    next.delete(user);
    this.#setTypingUsers(next);
  }

  #setTypingUsers(next: Map<string, ReturnType<typeof setTimeout>>, announce = true): void {
    if (next.size === 0) for (const t of this.#typing.values()) clearTimeout(t);
    this.#typing = next;
    if (announce) this.emit("typing", this.typingUsers);
  }

  #setChatState(state: ChatStateView): void {
    if (JSON.stringify(state) === JSON.stringify(this.#chatState)) return;
    this.#chatState = state;
    this.emit("chat_state", state);
  }

  #setStatus(status: ConnectionStatus): void {
    const old = this.#status;
    this.#status = status;
    if (old.state !== status.state || old.attempt !== status.attempt || old.reason !== status.reason) {
      this.emit("status", status);
    }
  }

  #render(): void {
    this.#view = this.#timeline.view(this.#outbox, this.#me);
    this.emit("timeline", this.#view);
  }
}
