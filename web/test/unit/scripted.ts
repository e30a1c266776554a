// A scripted server for the client's unit tests: every socket the client opens is recorded, and the test
// opens, refuses, drops or answers it by hand. Fake timers drive every delay.

import { vi } from "vitest";
import { ChatClient, type ChatClientOptions, type ConnectionStatus, type NetworkWatcher } from "../../src/client/client.js";
import type { ChatMessage, ClientFrame, HistoryFrame, ServerFrame } from "../../src/client/frames.js";
import { readClaims } from "../../src/client/jwt.js";
import { memoryOutbox, type OutboxStore } from "../../src/client/outbox.js";
import type { Socket, SocketFactory, SocketHandlers } from "../../src/client/transport.js";

/** A server frame before the server stamps it. */
type Unstamped = ServerFrame extends infer F ? (F extends ServerFrame ? Omit<F, "timestamp"> & { timestamp?: number } : never) : never;

/** A socket as the scripted server sees it. */
export class ScriptedSocket implements Socket {
  readonly sent: ClientFrame[] = [];
  opened = false;
  /** Answer pings like the server does (off to play a dead connection). */
  autoPong = true;
  /**
   * Answer `session` and `refresh` like a server with token renewal does: a `session` frame naming the token's
   * expiry (off by default: a server without renewal). `"refuse"` answers `refresh` with an error instead.
   */
  autoSession: boolean | "refuse" = false;
  closed: { code: number; reason: string; byClient: boolean } | undefined;

  constructor(
    readonly url: string,
    readonly protocols: string[],
    private readonly handlers: SocketHandlers,
  ) {}

  send(text: string): void {
    if (this.closed) throw new Error("send on a closed socket");
    const frame = JSON.parse(text) as ClientFrame;
    this.sent.push(frame);
    if (frame.action === "ping" && this.autoPong) {
      // A user connection's answers name the booking the frame named.
      const booking = (frame as { booking_id?: number }).booking_id;
      void Promise.resolve().then(() => !this.closed && this.receive(booking ? { type: "pong", booking_id: booking } : { type: "pong" }));
    }
    if ((frame.action === "session" || frame.action === "refresh") && this.autoSession) {
      const token = frame.action === "refresh" ? (frame.data?.token ?? "") : this.protocols[1]!.slice("bearer.".length);
      const answer: Unstamped =
        frame.action === "refresh" && this.autoSession === "refuse"
          ? { type: "error", error: { code: "AUTHENTICATION_ERROR", message: "invalid token" } }
          : { type: "session", user_id: "alice", expires_at: readClaims(token).expiresAt ?? 0, closes_at: Date.now() + 7_200_000 };
      if (frame.request_id !== undefined) answer.request_id = String(frame.request_id);
      void Promise.resolve().then(() => !this.closed && this.receive(answer));
    }
  }
  close(code = 1000, reason = ""): void {
    if (this.closed) return;
    this.closed = { code, reason, byClient: true };
    this.handlers.onClose({ code, reason, opened: this.opened });
  }

  /** The server accepts the handshake. */
  accept(): void {
    this.opened = true;
    this.handlers.onOpen();
  }
  /** The server refuses the handshake (status visible only to some transports). */
  refuse(status?: number): void {
    this.closed = { code: 1006, reason: "", byClient: false };
    this.handlers.onClose(status === undefined ? { code: 1006, reason: "", opened: false } : { code: 1006, reason: "", opened: false, status });
  }
  /** The connection drops (or the server closes it). */
  drop(code = 1006): void {
    this.closed = { code, reason: "", byClient: false };
    this.handlers.onClose({ code, reason: "", opened: true });
  }
  /** A frame from the server. */
  receive(frame: Unstamped): void {
    this.handlers.onMessage(JSON.stringify({ timestamp: Date.now(), ...frame }));
  }
  /** The frames of one action. */
  actions<A extends ClientFrame["action"]>(action: A): Extract<ClientFrame, { action: A }>[] {
    return this.sent.filter((f): f is Extract<ClientFrame, { action: A }> => f.action === action);
  }
  /**
   * Answers the last `sync` with a page of history; `extra` adds fields of the answer: `synced_at` (from a
   * server that can resume), `read_positions`, `presence`.
   */
  answerSync(messages: ChatMessage[], hasMore = false, extra: Partial<Omit<HistoryFrame, "type" | "booking_id">> = {}): void {
    const sync = this.actions("sync").at(-1);
    if (!sync) throw new Error("no sync to answer");
    const frame: Unstamped = { type: "history", booking_id: 1, messages, has_more: hasMore, ...extra };
    if (sync.request_id !== undefined) frame.request_id = String(sync.request_id);
    this.receive(frame);
  }
  /** The server stores a message: echoes it (the sender's acknowledgement). */
  echo(message: ChatMessage, requestId?: string | number): void {
    const frame: Unstamped = { type: "message", booking_id: 1, message };
    if (requestId !== undefined) frame.request_id = String(requestId);
    this.receive(frame);
  }
}

/** A JWT (unsigned: the client never verifies) for `sub`, expiring `ttlMs` from now. */
export function jwt(sub: string, ttlMs = 3_600_000): string {
  const b64 = (v: object) => Buffer.from(JSON.stringify(v)).toString("base64url");
  return `${b64({ alg: "HS256", typ: "JWT" })}.${b64({ sub, exp: Math.floor((Date.now() + ttlMs) / 1000) })}.sig`;
}

/** A stored message. */
export function msg(id: number, sender = "bob", body = `message ${id}`, cmid: string | null = null): ChatMessage {
  return {
    id,
    booking_id: 1,
    sender_id: sender,
    body,
    client_message_id: cmid,
    created_at: 1_700_000_000_000 + id,
    reactions: [],
    edited_at: null,
    deleted: false,
  };
}

/** A network whose online state and events the test controls. */
export class ScriptedNetwork implements NetworkWatcher {
  online = true;
  #onOnline: (() => void) | undefined;
  #onOffline: (() => void) | undefined;
  isOnline(): boolean {
    return this.online;
  }
  watch(onOnline: () => void, onOffline: () => void): () => void {
    this.#onOnline = onOnline;
    this.#onOffline = onOffline;
    return () => (this.#onOnline = this.#onOffline = undefined);
  }
  goOffline(): void {
    this.online = false;
    this.#onOffline?.();
  }
  goOnline(): void {
    this.online = true;
    this.#onOnline?.();
  }
}

/** A client wired to a scripted server, network and token provider. */
export function setup(overrides: Partial<ChatClientOptions> = {}, store: OutboxStore = memoryOutbox()) {
  const sockets: ScriptedSocket[] = [];
  const factory: SocketFactory = (url, protocols, handlers) => {
    const socket = new ScriptedSocket(url, protocols, handlers);
    sockets.push(socket);
    return socket;
  };
  const network = new ScriptedNetwork();
  const tokenCalls: boolean[] = [];
  let tokenTtl = 3_600_000;
  const client = new ChatClient({
    url: "wss://chat.example/prod",
    bookingId: 1,
    token: async ({ forceRefresh }) => {
      tokenCalls.push(forceRefresh);
      return jwt("alice", tokenTtl);
    },
    socket: factory,
    network,
    outbox: store,
    random: () => 0.5,
    ...overrides,
  });
  const statuses: ConnectionStatus[] = [];
  client.on("status", (s) => statuses.push(s));
  return {
    client,
    sockets,
    network,
    tokenCalls,
    statuses,
    store,
    setTokenTtl: (ms: number) => void (tokenTtl = ms),
    /** The most recent socket. */
    get socket(): ScriptedSocket {
      const s = sockets.at(-1);
      if (!s) throw new Error("no socket opened");
      return s;
    },
  };
}

/** Lets promises settle and timers due by then fire. */
export const tick = (ms = 0) => vi.advanceTimersByTimeAsync(ms);

/** Starts the client and brings its first connection online with `history` as the latest page. */
export async function online(t: ReturnType<typeof setup>, history: ChatMessage[] = []): Promise<ScriptedSocket> {
  if (t.client.status.state === "idle") t.client.start();
  await tick();
  const socket = t.socket;
  socket.accept();
  socket.answerSync(history);
  return socket;
}
