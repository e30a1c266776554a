//! The headless client: no DOM beyond `WebSocket`, `localStorage` and the network events, all replaceable.
//!
//! # Layout
//! - `frames.ts`: the wire frames, as types and as shapes checked against the wire crate's fixture.
//! - `client.ts`: `ChatClient`, the state machine (connection, resume, outbox delivery, typing, events).
//! - `timeline.ts`: stored messages de-duplicated and ordered by id, plus the unsent ones.
//! - `outbox.ts`: where unsent messages wait (memory, `localStorage` shared by a user's tabs).
//! - `attachments.ts`: `Uploads`, a composer's files from picked to `ready` (the upload port, its XHR adapter);
//!   an entry of its own (`@booking-chat/widget/attachments`), so that a page without attachments does not load it.
//! - `transport.ts`: the socket port and its `WebSocket` adapter.
//! - `backoff.ts`, `jwt.ts`, `emitter.ts`: jittered delays, reading `sub`/`exp`, typed events.

export {
  ChatClient,
  ChatError,
  browserNetwork,
  MAX_ATTACHMENTS,
  MAX_BODY_CHARS,
  SignedOutError,
  WRITABLE_CHAT,
  type AccessProbe,
  type ChatClientEvents,
  type ChatClientOptions,
  type ConnectionState,
  type ConnectionStatus,
  type NetworkWatcher,
  type SearchOptions,
  type StopReason,
  type TokenProvider,
} from "./client.js";
// The frame types, and the parser the client uses; the validators and shapes are `@booking-chat/widget/frames`.
export type * from "./frames.js";
export { parseServerFrame } from "./frames.js";
export {
  localStorageOutbox,
  memoryOutbox,
  type LocalStorageOutboxOptions,
  type OutboxEntry,
  type OutboxStore,
  type PageLocks,
} from "./outbox.js";
export type { MessageState, TimelineMessage } from "./timeline.js";
export { webSocketFactory, type Socket, type SocketClose, type SocketFactory, type SocketHandlers } from "./transport.js";
export { equalJitter, fullJitter, type BackoffOptions } from "./backoff.js";
export { readClaims, type TokenClaims } from "./jwt.js";

/** A probe for `ChatClientOptions.probe`: the backend's history route for the booking, as a cheap access check. */
export function httpProbe(apiUrl: string, bookingId: number): (token: string) => Promise<number> {
  return async (token) => {
    const url = `${apiUrl.replace(/\/$/, "")}/api/chat/bookings/${bookingId}/messages?limit=1`;
    const response = await fetch(url, { headers: { authorization: `Bearer ${token}` } });
    return response.status;
  };
}
