//! `@booking-chat/widget/react`: React hooks over the headless client, and the JSX typings of the elements.
//!
//! `<ChatProvider>` owns the clients: one `ChatClient` per booking (`useConversation`, `usePresence`,
//! `useChatClient`) and one `UserChannel` for the inbox (`useInbox`), made when a hook first asks and shared by
//! every hook that asks again. The bindings are thin and safe:
//! - nothing connects during render, so a server renders them (`renderToString`) without a DOM or a socket;
//! - a component that unmounts releases its client, which closes a second later unless someone takes it again:
//!   StrictMode's mount, unmount, mount and a keyed move keep one connection;
//! - the `token` function is read at each call, so a new function on every render is not a new connection;
//!   only another `url`, `apiUrl` or `user` is another provider's worth of clients;
//! - state comes through `useSyncExternalStore`, one snapshot per change of the client;
//! - actions are the client's, returning its promises (settled by the server's answer, rejected with a `ChatError`).

import { createContext, createElement, useContext, useEffect, useMemo, useRef, useSyncExternalStore, type ReactNode } from "react";
import { ChatClient, WRITABLE_CHAT, type ChatClientOptions, type ConnectionStatus, type TokenProvider } from "../client/client.js";
import type { BookingId, ChatStateView, MemberPresence, MessageId } from "../client/frames.js";
import { httpProbe } from "../client/index.js";
import { localStorageOutbox } from "../client/outbox.js";
import type { TimelineMessage } from "../client/timeline.js";
import { UserChannel, type InboxBooking } from "../client/user.js";

export type { JsxBookingChat, JsxBookingInbox } from "./jsx.js";

/** The provider's settings. */
export interface ChatProviderProps {
  /** The WebSocket API's URL. */
  url: string;
  /** Where tokens come from; may be a new function on every render. */
  token: TokenProvider;
  /** The backend's base URL: the inbox (`GET /api/chat/inbox`) and the meaning of refused handshakes. */
  apiUrl?: string;
  /** Names each booking's outbox in `localStorage` (as `<booking-chat user>` does); without it, memory. */
  user?: string;
  /** Options for every client the provider makes (timings; the ports tests replace). Read when each is made. */
  clientOptions?: Omit<Partial<ChatClientOptions>, "url" | "token" | "bookingId" | "channel" | "outbox" | "probe">;
  children?: ReactNode;
}

/** How long a released client stays open for a component that takes it again (StrictMode, a keyed move). */
const RELEASE_DELAY_MS = 1_000;

/** A client shared by the hooks that use it, closed a moment after the last lets go. */
interface Held<C extends { start(): void; close(): void; status: ConnectionStatus }> {
  client: C;
  users: number;
  timer?: ReturnType<typeof setTimeout>;
}

/** What a `ChatProvider` owns: its clients, made on demand, started by effects, closed when unused. */
export class ChatStore {
  #props: ChatProviderProps;
  #chats = new Map<BookingId, Held<ChatClient>>();
  #channel: Held<UserChannel> | undefined;

  constructor(props: ChatProviderProps) {
    this.#props = props;
  }

  /** Takes the latest props' functions (the token provider) without touching any connection. */
  update(props: ChatProviderProps): void {
    this.#props = props;
  }

  #token: TokenProvider = (context) => this.#props.token(context);

  /** The booking's client (made, not started, on first use). */
  chat(bookingId: BookingId): ChatClient {
    let held = this.#chats.get(bookingId);
    if (!held) {
      const { url, apiUrl, user } = this.#props;
      const client = new ChatClient({
        ...this.#props.clientOptions,
        url,
        bookingId,
        token: this.#token,
        ...(user === undefined ? {} : { outbox: localStorageOutbox(`booking-chat:outbox:${bookingId}:${user}`) }),
        ...(apiUrl === undefined ? {} : { probe: httpProbe(apiUrl, bookingId) }),
      });
      this.#chats.set(bookingId, (held = { client, users: 0 }));
    }
    return held.client;
  }

  /** The per-user channel (made, not started, on first use). */
  channel(): UserChannel {
    const { url, apiUrl, user } = this.#props;
    this.#channel ??= {
      client: new UserChannel({
        ...(this.#props.clientOptions ? { client: this.#props.clientOptions } : {}),
        url,
        token: this.#token,
        ...(apiUrl === undefined ? {} : { apiUrl }),
        ...(user === undefined ? {} : { outbox: (id: BookingId) => localStorageOutbox(`booking-chat:outbox:${id}:${user}`) }),
      }),
      users: 0,
    };
    return this.#channel.client;
  }

  /** Starts the booking's client for one more user; returns the release (for an effect's cleanup). */
  holdChat(bookingId: BookingId): () => void {
    this.chat(bookingId);
    return hold(this.#chats.get(bookingId)!);
  }

  /** Starts the per-user channel for one more user; returns the release. */
  holdChannel(): () => void {
    this.channel();
    return hold(this.#channel!);
  }

  #closeTimer: ReturnType<typeof setTimeout> | undefined;

  /**
   * The provider is mounted: returns what its effect's cleanup calls, which closes every client a moment
   * later unless the provider mounts again meanwhile (StrictMode).
   */
  mount(): () => void {
    clearTimeout(this.#closeTimer);
    return () => {
      this.#closeTimer = setTimeout(() => {
        for (const held of [...this.#chats.values(), this.#channel]) {
          if (!held) continue;
          clearTimeout(held.timer);
          held.client.close();
        }
      }, RELEASE_DELAY_MS);
    };
  }
}

function hold<C extends { start(): void; close(): void; status: ConnectionStatus }>(held: Held<C>): () => void {
  held.users++;
  clearTimeout(held.timer);
  const { state, reason } = held.client.status;
  // Idle, or closed by a release: start. A client that stopped for a reason (removed, signed out) stays stopped.
  if (state === "idle" || (state === "stopped" && reason === "closed")) held.client.start();
  let released = false;
  return () => {
    if (released) return;
    released = true;
    if (--held.users === 0) held.timer = setTimeout(() => held.client.close(), RELEASE_DELAY_MS);
  };
}

const Context = createContext<ChatStore | undefined>(undefined);

/** Owns the chat clients of the components inside it. */
export function ChatProvider(props: ChatProviderProps): ReactNode {
  const { url, apiUrl, user } = props;
  // One store per URL, API and outbox user, made during render (no side effect: nothing connects until a hook's effect).
  const store = useMemo(() => new ChatStore(props), [url, apiUrl, user]); // eslint-disable-line react-hooks/exhaustive-deps
  store.update(props);
  // A store that is left behind (another URL, or unmounted for good) closes its clients.
  useEffect(() => store.mount(), [store]);
  return createElement(Context.Provider, { value: store }, props.children);
}

/** The provider's store; throws outside a `ChatProvider`. */
export function useChatStore(): ChatStore {
  const store = useContext(Context);
  if (!store) throw new Error("booking chat hooks need a <ChatProvider> above them");
  return store;
}

/** A client before it starts: what a server renders, and what hydration must find (an outbox in storage shows after). */
const IDLE: ConnectionStatus = { state: "idle", attempt: 0 };

/**
 * A snapshot kept until one of `events` says it changed: what `useSyncExternalStore` needs. `initial` is the
 * server's (and hydration's) snapshot.
 */
function useSnapshot<T>(source: { on(event: never, listener: () => void): () => void }, events: string[], read: () => T, initial: T): T {
  const cache = useRef<{ source: object; value: T } | undefined>(undefined);
  if (cache.current?.source !== source) cache.current = { source, value: read() };
  const subscribe = useMemo(
    () => (onChange: () => void) => {
      const offs = events.map((event) =>
        (source.on as (e: string, l: () => void) => () => void)(event, () => {
          cache.current = { source, value: read() };
          onChange();
        }),
      );
      return () => offs.forEach((off) => off());
    },
    [source], // eslint-disable-line react-hooks/exhaustive-deps
  );
  return useSyncExternalStore(subscribe, () => cache.current!.value, () => initial);
}

/** The booking's `ChatClient`, started while the component is mounted (for its events, `client.on(...)`). */
export function useChatClient(bookingId: BookingId): ChatClient {
  const store = useChatStore();
  const client = store.chat(bookingId);
  useEffect(() => store.holdChat(bookingId), [store, bookingId]);
  return client;
}

/** What `useConversation` returns: the state of one booking's chat, and its actions. */
export interface Conversation {
  /** Stored messages in id order, then the unsent ones (see `ChatClient.timeline`). */
  messages: readonly TimelineMessage[];
  status: ConnectionStatus;
  /** Other members typing now. */
  typingUsers: readonly string[];
  /** Each member's read position. */
  receipts: ReadonlyMap<string, MessageId>;
  hasOlder: boolean;
  /** This user's id (the token's `sub`). */
  me: string | undefined;
  /** Whether the chat may be written in, and who blocked whom (see `ChatClient.chatState`). */
  chatState: ChatStateView;
  /** The client's actions, bound (stable across renders). Each returns the client's promise. */
  send: ChatClient["send"];
  edit: ChatClient["edit"];
  remove: ChatClient["remove"];
  react: ChatClient["react"];
  markRead: ChatClient["markRead"];
  loadOlder: ChatClient["loadOlder"];
  /** Search: the booking's messages matching a query (`search`), and loading back to one of them (`loadUntil`). */
  search: ChatClient["search"];
  loadUntil: ChatClient["loadUntil"];
  retry: ChatClient["retry"];
  discard: ChatClient["discard"];
  typing: ChatClient["typing"];
  stopTyping: ChatClient["stopTyping"];
  block: ChatClient["block"];
  unblock: ChatClient["unblock"];
  report: ChatClient["report"];
  /** Attachments: the upload form for a file (or `new Uploads(client)` for the whole flow), and signed URLs. */
  requestUpload: ChatClient["requestUpload"];
  attachmentUrl: ChatClient["attachmentUrl"];
  client: ChatClient;
}

const NONE: readonly never[] = [];
const INITIAL_CONVERSATION = {
  messages: NONE,
  status: IDLE,
  typingUsers: NONE,
  receipts: new Map<string, MessageId>(),
  hasOlder: false,
  me: undefined,
  chatState: WRITABLE_CHAT,
};
const INITIAL_INBOX = { bookings: NONE, unreadCount: 0, status: IDLE };

/** One booking's conversation: its messages, status, typing, read and chat state, and its actions. */
export function useConversation(bookingId: BookingId): Conversation {
  const client = useChatClient(bookingId);
  const state = useSnapshot(client, ["timeline", "status", "typing", "receipt", "chat_state"], () => ({
    messages: client.timeline,
    status: client.status,
    typingUsers: client.typingUsers,
    receipts: new Map(client.receipts),
    hasOlder: client.hasOlder,
    me: client.me,
    chatState: client.chatState,
  }), INITIAL_CONVERSATION);
  const actions = useMemo(
    () => ({
      send: client.send.bind(client),
      edit: client.edit.bind(client),
      remove: client.remove.bind(client),
      react: client.react.bind(client),
      markRead: client.markRead.bind(client),
      loadOlder: client.loadOlder.bind(client),
      search: client.search.bind(client),
      loadUntil: client.loadUntil.bind(client),
      retry: client.retry.bind(client),
      discard: client.discard.bind(client),
      typing: client.typing.bind(client),
      stopTyping: client.stopTyping.bind(client),
      block: client.block.bind(client),
      unblock: client.unblock.bind(client),
      report: client.report.bind(client),
      requestUpload: client.requestUpload.bind(client),
      attachmentUrl: client.attachmentUrl.bind(client),
      client,
    }),
    [client],
  );
  return { ...state, ...actions };
}

/** The other members' presence in a booking (online, or when last seen), live. */
export function usePresence(bookingId: BookingId): readonly MemberPresence[] {
  const client = useChatClient(bookingId);
  const others = () => [...client.presence.values()].filter((p) => p.user_id !== client.me);
  return useSnapshot<readonly MemberPresence[]>(client, ["presence", "timeline", "status"], others, NONE);
}

/** What `useInbox` returns. */
export interface Inbox {
  /** Every booking, most recently active first, with its last message and unread count. */
  bookings: readonly InboxBooking[];
  /** The unread counts added up (for a badge). */
  unreadCount: number;
  /** The user connection's status. */
  status: ConnectionStatus;
  /** The per-user channel (its `conversation(id)` sends on the same socket). */
  channel: UserChannel;
}

/** The user's inbox, live over the per-user channel (started while the component is mounted). */
export function useInbox(): Inbox {
  const store = useChatStore();
  const channel = store.channel();
  useEffect(() => store.holdChannel(), [store]);
  const state = useSnapshot(channel, ["inbox", "status"], () => ({
    bookings: channel.inbox,
    unreadCount: channel.unreadCount,
    status: channel.status,
  }), INITIAL_INBOX);
  return { ...state, channel };
}
