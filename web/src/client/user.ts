//! `UserChannel`: one user connection (`?type=user`) for everything of a user's bookings: the inbox (each
//! booking's last message and unread count, live) and a conversation per booking that sends on that same socket.
//!
//! It is built from `ChatClient`s, so that nothing the client decides is written twice:
//! - `connection`, a `ChatClient` on the user channel, owns the socket: tokens, reconnects with backoff,
//!   keep-alive, and a new connection (make before break) before each token expires (a `refresh` on a user
//!   connection must name a booking, and a user may have none yet);
//! - `conversation(id)` is a `ChatClient` of one booking whose socket is virtual: its frames go out on the user
//!   connection naming the booking, and the frames naming the booking come back to it. So each booking has its
//!   own timeline, resume after any gap, outbox delivered exactly once, and promises settled by their answers.
//!   A virtual socket opens when the user connection does and drops when it drops (a replacement does not
//!   drop it: the replaced socket lingers a few seconds for answers already on their way);
//! - the inbox is `GET /api/chat/inbox` each time the connection comes online (after a gap it is the truth),
//!   then every frame that names a booking: `message`, `message_updated`, `receipt`, `unread`,
//!   `booking_status`, and `membership` (a booking joined later is fetched; one left is dropped, and its
//!   conversation stops with `removed`).
//!
//! Typing and presence never reach a user connection: a page that shows them for an open chat uses a chat
//! connection (`ChatClient`, `<booking-chat>`) for that booking.

import { ChatClient, ChatError, type ChatClientOptions, type ConnectionStatus, type TokenProvider } from "./client.js";
import { Emitter } from "./emitter.js";
import { parseServerFrame, type BookingId, type ChatMessage, type MessageId, type ServerFrame } from "./frames.js";
import { memoryOutbox, type OutboxStore } from "./outbox.js";
import { webSocketFactory, type Socket, type SocketFactory, type SocketHandlers } from "./transport.js";

/** One booking of the inbox, as `GET /api/chat/inbox` returns it, kept up to date by the user connection. */
export interface InboxBooking {
  booking_id: BookingId;
  /** What is booked. */
  title: string;
  /** `requested`, `confirmed`, `active`, `completed` or `cancelled`. */
  status: string;
  owner_id: string;
  renter_id: string;
  /** The other member. */
  other_user_id: string;
  /** Epoch ms of the last message, else of the booking's creation: the inbox is sorted by it, newest first. */
  active_at: number;
  last_message?: ChatMessage | null;
  /** The other member's messages after the user's read position (99 or 999 mean "at least"). */
  unread_count: number;
  /** The user's read position (`null`: nothing read). */
  last_read_message_id?: MessageId | null;
  /** How far the other member has read. */
  other_last_read_message_id?: MessageId | null;
}

/** Settings of a `UserChannel`. */
export interface UserChannelOptions {
  /** The WebSocket API's URL (`?type=user` is added). */
  url: string;
  /** Where tokens come from (see `TokenProvider`). */
  token: TokenProvider;
  /** The backend's base URL, for the inbox (`GET {apiUrl}/api/chat/inbox`); without it the inbox stays empty. */
  apiUrl?: string;
  /** Where each booking's unsent messages wait (default: memory); e.g. `(id) => localStorageOutbox(...)`. */
  outbox?: (bookingId: BookingId) => OutboxStore;
  /** Replaces `fetch` (tests). */
  fetch?: typeof fetch;
  /** Options for the connection's and the conversations' `ChatClient`s (timings, the ports tests replace). */
  client?: Omit<Partial<ChatClientOptions>, "url" | "token" | "bookingId" | "channel" | "outbox">;
}

/** The events of a `UserChannel`. */
export interface UserChannelEvents {
  /** The user connection's status. */
  status: ConnectionStatus;
  /** The inbox changed: every booking, most recently active first (changed bookings are new objects). */
  inbox: readonly InboxBooking[];
  /** A new message of another member, in any booking: for a badge or a notification. */
  message: ChatMessage;
}

/** How long a replaced user connection stays open for answers already on their way to it. */
const LINGER_MS = 5_000;

/** A conversation's socket, carried by the user connection. */
interface Virtual {
  handlers: SocketHandlers;
  opened: boolean;
  closed: boolean;
}

/** The per-user channel: the inbox, and every booking's conversation, over one socket. Create, then `start()`. */
export class UserChannel extends Emitter<UserChannelEvents> {
  /** The user connection itself (its `unread`, `membership`, `booking_status` events, its `status`). */
  readonly connection: ChatClient;
  readonly #o: UserChannelOptions;
  #inbox: InboxBooking[] = [];
  #conversations = new Map<BookingId, ChatClient>();
  #virtual = new Map<BookingId, Set<Virtual>>();
  /** The open user socket frames are sent on, and its token. */
  #active: { socket: Socket; token: string } | undefined;
  /** A booking of the user's, named by the connection's own frames (pings), which must name one. */
  #known: BookingId | undefined;
  /** Frames that arrived while the inbox was being fetched: applied again to the answer. */
  #pendingFrames: string[] | undefined;

  constructor(options: UserChannelOptions) {
    super();
    this.#o = options;
    this.connection = new ChatClient({
      ...options.client,
      url: options.url,
      token: options.token,
      channel: "user",
      socket: this.#carrier(options.client?.socket ?? webSocketFactory),
    });
    this.connection.on("status", (status) => {
      if (status.state === "online") this.refresh().catch(() => {});
      if (status.state === "stopped") for (const c of this.#conversations.values()) c.close();
      this.emit("status", status);
    });
  }

  /** The user connection's status. */
  get status(): ConnectionStatus {
    return this.connection.status;
  }
  /** Every booking of the inbox, most recently active first. */
  get inbox(): readonly InboxBooking[] {
    return this.#inbox;
  }
  /** The unread counts of every booking, added up. */
  get unreadCount(): number {
    return this.#inbox.reduce((n, b) => n + b.unread_count, 0);
  }

  /** Connects (and keeps connecting; see `ChatClient.start`). */
  start(): void {
    this.connection.start();
  }
  /** Disconnects, and closes every conversation. */
  close(): void {
    this.connection.close();
  }

  /**
   * The conversation of one booking, over this channel's socket: the same `ChatClient` for the channel's
   * life. Start it to follow the booking (sync, resume, outbox delivery); close it to stop.
   */
  conversation(bookingId: BookingId): ChatClient {
    let client = this.#conversations.get(bookingId);
    if (!client) {
      client = new ChatClient({
        ...this.#o.client,
        url: this.#o.url,
        bookingId,
        // The user connection's token: the conversation's "connection" is that socket, renewed with it.
        token: (context) => (this.#active ? Promise.resolve(this.#active.token) : this.#o.token(context)),
        tokenRenewal: "none",
        outbox: this.#o.outbox?.(bookingId) ?? memoryOutbox(),
        socket: this.#virtualFactory(bookingId),
      });
      this.#conversations.set(bookingId, client);
    }
    return client;
  }

  /**
   * Fetches the inbox (`GET /api/chat/inbox`) and replaces the channel's with it; called each time the
   * connection comes online. Rejects with a `ChatError` when the backend refuses or cannot be reached.
   */
  async refresh(): Promise<void> {
    const { apiUrl } = this.#o;
    if (apiUrl === undefined) return;
    const token = this.#active?.token ?? (await this.#o.token({ forceRefresh: false }));
    if (!token) return;
    this.#pendingFrames ??= [];
    try {
      const response = await (this.#o.fetch ?? fetch)(`${apiUrl.replace(/\/$/, "")}/api/chat/inbox`, {
        headers: { authorization: `Bearer ${token}` },
      });
      if (!response.ok) throw new ChatError(response.status === 401 ? "AUTHENTICATION_ERROR" : "BACKEND_UNAVAILABLE", `inbox: HTTP ${response.status}`);
      const { bookings } = (await response.json()) as { bookings: InboxBooking[] };
      this.#inbox = bookings;
      this.#known ??= bookings[0]?.booking_id;
      for (const text of this.#pendingFrames) this.#apply(text, false);
      this.#publish();
    } finally {
      this.#pendingFrames = undefined;
    }
  }

  // ---- Sockets ----

  /** Wraps the user connection's sockets: tracks the open one, routes every frame, lets a replaced one linger. */
  #carrier(base: SocketFactory): SocketFactory {
    return (url, protocols, handlers) => {
      let opened = false;
      let gone = false;
      const entry = { socket: undefined as unknown as Socket, token: protocols[1]?.slice("bearer.".length) ?? "" };
      const socket = base(url, protocols, {
        onOpen: () => {
          opened = true;
          this.#active = entry;
          handlers.onOpen();
          for (const set of this.#virtual.values()) for (const v of set) this.#open(v);
        },
        onMessage: (text) => {
          const frame = this.#apply(text, true);
          // The connection hears what is pushed about the user (unread, membership, status, its pongs); messages
          // and answers belong to the conversations and the inbox, so that it keeps no timeline of its own.
          if (!gone && frame?.request_id === undefined && frame?.type !== "message" && frame?.type !== "message_updated") handlers.onMessage(text);
        },
        onClose: (close) => {
          if (this.#active === entry) {
            this.#active = undefined;
            for (const set of this.#virtual.values()) for (const v of [...set]) if (v.opened) this.#end(v, 1006, "");
          }
          if (!gone) handlers.onClose(close);
          gone = true;
        },
      });
      entry.socket = socket;
      return {
        send: (text) => {
          if (this.#known === undefined) return socket.send(text);
          // Every frame on a user connection names a booking, pings too.
          socket.send(JSON.stringify({ booking_id: this.#known, ...JSON.parse(text) }));
        },
        close: (code = 1000, reason = "") => {
          if (gone) return;
          gone = true;
          handlers.onClose({ code, reason, opened });
          // Replaced (another one is open now): it lingers for the answers already on their way to it.
          if (opened && this.#active && this.#active !== entry) setTimeout(() => socket.close(code, reason), LINGER_MS);
          else socket.close(code, reason);
        },
      };
    };
  }

  /** A conversation's sockets: its frames go out on the user connection, naming its booking. */
  #virtualFactory(bookingId: BookingId): SocketFactory {
    return (_url, _protocols, handlers) => {
      const v: Virtual = { handlers, opened: false, closed: false };
      let set = this.#virtual.get(bookingId);
      if (!set) this.#virtual.set(bookingId, (set = new Set()));
      set.add(v);
      // Opened after the client has its socket in hand, never during the call that makes it.
      queueMicrotask(() => this.#open(v));
      return {
        send: (text) => this.#active?.socket.send(JSON.stringify({ ...JSON.parse(text), booking_id: bookingId })),
        close: (code = 1000, reason = "") => this.#end(v, code, reason),
      };
    };
  }

  #open(v: Virtual): void {
    if (v.opened || v.closed || !this.#active) return;
    v.opened = true;
    v.handlers.onOpen();
  }

  #end(v: Virtual, code: number, reason: string): void {
    if (v.closed) return;
    v.closed = true;
    for (const set of this.#virtual.values()) set.delete(v);
    v.handlers.onClose({ code, reason, opened: v.opened });
  }

  // ---- Frames ----

  /**
   * One frame from the user connection (`live`), or one received while the inbox was fetched, applied again:
   * to the conversation of its booking, and into the inbox. Returns the frame.
   */
  #apply(text: string, live: boolean): ServerFrame | undefined {
    const frame = parseServerFrame(text);
    if (!frame || !("booking_id" in frame) || frame.booking_id === undefined) return frame;
    this.#update(text, frame, frame.booking_id, live);
    return frame;
  }

  #update(text: string, frame: ServerFrame, id: BookingId, live: boolean): void {
    if (live) {
      this.#pendingFrames?.push(text);
      this.#known ??= id;
      for (const v of this.#virtual.get(id) ?? []) if (v.opened) v.handlers.onMessage(text);
    }
    const me = this.connection.me;
    const index = this.#inbox.findIndex((b) => b.booking_id === id);
    const old = this.#inbox[index];
    if (frame.type === "membership") {
      if (frame.user_id !== me || !live) return;
      if (frame.member) return void this.refresh().catch(() => {});
      // Removed: the conversation stops as a removed chat connection does.
      for (const v of [...(this.#virtual.get(id) ?? [])]) this.#end(v, 4403, "removed");
      if (old) this.#inbox = this.#inbox.filter((b) => b !== old);
      if (this.#known === id) this.#known = this.#inbox[0]?.booking_id;
      return this.#publish();
    }
    if (!old) {
      // A booking the inbox does not have yet: the backend's answer has it.
      if (live && (frame.type === "message" || frame.type === "unread")) this.refresh().catch(() => {});
      return;
    }
    const next: InboxBooking = { ...old };
    switch (frame.type) {
      case "message":
      case "message_updated": {
        const m = frame.message;
        if (next.last_message && m.id < next.last_message.id) return;
        if (live && frame.type === "message" && m.id !== next.last_message?.id && m.sender_id !== me) this.emit("message", m);
        next.last_message = m;
        if (frame.type === "message") next.active_at = Math.max(next.active_at, m.created_at);
        break;
      }
      case "unread":
        next.unread_count = frame.unread_count;
        next.last_read_message_id = frame.last_read_message_id;
        break;
      case "receipt":
        if (frame.user_id === me) next.last_read_message_id = Math.max(frame.last_read_message_id, next.last_read_message_id ?? 0);
        else next.other_last_read_message_id = Math.max(frame.last_read_message_id, next.other_last_read_message_id ?? 0);
        break;
      case "booking_status":
        next.status = frame.status;
        break;
      default:
        return;
    }
    this.#inbox = this.#inbox.map((b) => (b === old ? next : b));
    this.#publish();
  }

  #publish(): void {
    this.#inbox = [...this.#inbox].sort((a, b) => b.active_at - a.active_at);
    this.emit("inbox", this.#inbox);
  }
}
