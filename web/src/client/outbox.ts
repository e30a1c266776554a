//! The outbox: messages written but not yet acknowledged by the server, kept in storage so that they survive
//! a reload and are delivered, with their original `client_message_id`, when a connection is back. The
//! backend is idempotent per (booking, sender, client_message_id), so resending is always safe.

/** A message waiting for the server's acknowledgement. */
export interface OutboxEntry {
  /** The idempotency key, chosen once when the message was written and never changed. */
  client_message_id: string;
  body: string;
  /** Epoch milliseconds, when the user wrote it. */
  created_at: number;
  /** Who wrote it (the token's `sub`), when known: an entry is only ever sent as its author. */
  sender_id?: string;
  /** Set when the server refused it for good; it waits for the user's retry or discard. */
  failed?: { code: string; message: string };
}

/** Where the outbox lives. Synchronous, so that a message is stored before `send` returns. */
export interface OutboxStore {
  load(): OutboxEntry[];
  save(entries: readonly OutboxEntry[]): void;
}

/** Keeps the outbox in memory only (no reload survival). */
export function memoryOutbox(): OutboxStore {
  let entries: OutboxEntry[] = [];
  return { load: () => entries.map((e) => ({ ...e })), save: (next) => void (entries = next.map((e) => ({ ...e }))) };
}

function isEntry(value: unknown): value is OutboxEntry {
  if (typeof value !== "object" || value === null) return false;
  const e = value as Record<string, unknown>;
  return typeof e.client_message_id === "string" && typeof e.body === "string" && typeof e.created_at === "number";
}

/**
 * Keeps the outbox in `localStorage` under `key` (one key per booking and user). Falls back to memory when
 * storage is unavailable (private mode, quota): sending must never fail because storage did.
 */
export function localStorageOutbox(key: string, storage?: Storage): OutboxStore {
  const memory = memoryOutbox();
  let usable = true;
  const store = (): Storage | undefined => {
    try {
      return usable ? (storage ?? globalThis.localStorage) : undefined;
    } catch {
      return undefined;
    }
  };
  return {
    load() {
      const s = store();
      if (!s) return memory.load();
      try {
        const parsed: unknown = JSON.parse(s.getItem(key) ?? "[]");
        return Array.isArray(parsed) ? parsed.filter(isEntry) : [];
      } catch {
        return [];
      }
    },
    save(entries) {
      memory.save(entries);
      const s = store();
      try {
        if (entries.length) s?.setItem(key, JSON.stringify(entries));
        else s?.removeItem(key);
      } catch {
        // Quota or privacy mode: from now on the memory copy is the outbox, delivered within this page's life.
        usable = false;
      }
    },
  };
}
