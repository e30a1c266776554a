//! The transport port: how the client opens a socket. The browser adapter wraps `WebSocket`; the unit tests
//! script their own. The client never touches `WebSocket` directly, so every decision it makes is testable.

/** How a socket ended. */
export interface SocketClose {
  /** The close code (1006 when the connection failed or dropped without a close frame). */
  code: number;
  /** The close reason, often empty. */
  reason: string;
  /** Whether the socket had opened: `false` means the handshake was refused or never completed. */
  opened: boolean;
  /**
   * The HTTP status that refused the handshake, when the transport can see it. Browsers never expose it
   * (a refused handshake is a bare 1006 there); the client then asks its `probe`, if it has one.
   */
  status?: number;
}

/** What a socket reports. Each socket calls `onClose` exactly once, and nothing after it. */
export interface SocketHandlers {
  onOpen(): void;
  onMessage(text: string): void;
  onClose(close: SocketClose): void;
}

/** An open or opening socket. */
export interface Socket {
  send(text: string): void;
  close(code?: number, reason?: string): void;
}

/** Opens a socket to `url` offering `protocols`. */
export type SocketFactory = (url: string, protocols: string[], handlers: SocketHandlers) => Socket;

/** The browser adapter (any environment with a WHATWG `WebSocket`). */
export const webSocketFactory: SocketFactory = (url, protocols, handlers) => {
  const ws = new WebSocket(url, protocols);
  let opened = false;
  let closed = false;
  const finish = (close: SocketClose) => {
    if (closed) return;
    closed = true;
    ws.onopen = ws.onmessage = ws.onclose = ws.onerror = null;
    handlers.onClose(close);
  };
  ws.onopen = () => {
    opened = true;
    handlers.onOpen();
  };
  ws.onmessage = (event: MessageEvent) => {
    if (typeof event.data === "string") handlers.onMessage(event.data);
  };
  ws.onclose = (event: CloseEvent) => finish({ code: event.code, reason: event.reason, opened });
  return {
    send: (text) => {
      if (ws.readyState === WebSocket.OPEN) ws.send(text);
    },
    close: (code = 1000, reason = "") => {
      // The caller is done with this socket: report at once rather than waiting for the closing handshake.
      try {
        ws.close(code, reason);
      } catch {
        ws.close();
      }
      finish({ code, reason, opened });
    },
  };
};
