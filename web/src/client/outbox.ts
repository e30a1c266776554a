//! The outbox: messages written but not yet acknowledged by the server, kept in storage so that they survive
//! a reload and are delivered, with their original `client_message_id`, when a connection is back. The
//! backend is idempotent per (booking, sender, client_message_id), so resending is always safe.
//!
//! Several pages (tabs) of one user may chat in one booking at once, over one `localStorage`. So storage holds
//! one key per message, never one array per page written wholesale, and each entry names the page that
//! delivers it: its writer while that page lives. A page holds a Web Lock named after itself for its whole
//! life; another page waiting for that lock is granted it when the page closes, and then adopts the entries
//! it left, one page alone, inside the lock. Nothing is lost when a page closes mid-send, and each page shows
//! and sends only what it owns.

import type { Attachment } from "./frames.js";

/** A message waiting for the server's acknowledgement. */
export interface OutboxEntry {
  /** The idempotency key, chosen once when the message was written and never changed. */
  client_message_id: string;
  body: string;
  /** Epoch milliseconds, when the user wrote it. */
  created_at: number;
  /** Who wrote it (the token's `sub`), when known: an entry is only ever sent as its author. */
  sender_id?: string;
  /** Its files (`ready` attachments of the author's), sent as their ids. */
  attachments?: Attachment[];
  /** Set when the server refused it for good; it waits for the user's retry or discard. */
  failed?: { code: string; message: string };
}

/** Where the outbox lives. Synchronous, so that a message is stored before `send` returns. */
export interface OutboxStore {
  /** The entries this page delivers, oldest first. */
  load(): OutboxEntry[];
  /** Stores one entry, new or changed (`failed`, `sender_id`), under its `client_message_id`. */
  put(entry: OutboxEntry): void;
  /** Forgets one entry: the server has it, or the user discarded it. */
  remove(clientMessageId: string): void;
  /**
   * Optional: hands `adopt` the entries of pages that closed with messages unsent, each entry to one page
   * only, from now until the returned function is called. The client watches while it is started.
   */
  watch?(adopt: (entries: OutboxEntry[]) => void): () => void;
}

/** Keeps the outbox in memory only (no reload survival). */
export function memoryOutbox(): OutboxStore {
  const entries = new Map<string, OutboxEntry>();
  return {
    load: () => [...entries.values()].map((e) => ({ ...e })),
    put: (entry) => void entries.set(entry.client_message_id, { ...entry }),
    remove: (cmid) => void entries.delete(cmid),
  };
}

function isEntry(value: unknown): value is OutboxEntry {
  if (typeof value !== "object" || value === null) return false;
  const e = value as Record<string, unknown>;
  return typeof e.client_message_id === "string" && typeof e.body === "string" && typeof e.created_at === "number";
}

/** The part of the Web Locks API (`navigator.locks`) the outbox uses. */
export interface PageLocks {
  request(name: string, options: { signal?: AbortSignal }, callback: () => Promise<unknown>): Promise<unknown>;
}

/** Settings of `localStorageOutbox`; the defaults are the browser's. */
export interface LocalStorageOutboxOptions {
  /** Default `localStorage`. */
  storage?: Storage;
  /**
   * Default `navigator.locks`. Without Web Locks a page cannot tell whether another is alive, so it adopts
   * every entry it finds when it starts: nothing is lost, and an entry two open pages both send is stored once.
   */
  locks?: PageLocks | undefined;
  /** This page's id (default: one per document, held as a Web Lock until the document goes). */
  page?: string;
  /** Calls `listener` when another page changes storage (default: the `storage` event); returns the unsubscribe. */
  onChange?: (listener: () => void) => () => void;
}

/** A stored entry: the entry and the page that delivers it. */
type Stored = OutboxEntry & { page: string };

const LOCK_PREFIX = "booking-chat:page:";
let documentPage: string | undefined;
/** The page locks taken, by lock manager: a page takes its own once. */
const held = new WeakMap<PageLocks, Set<string>>();

function randomId(): string {
  return Array.from(crypto.getRandomValues(new Uint8Array(8)), (b) => b.toString(16).padStart(2, "0")).join("");
}

function defaultLocks(): PageLocks | undefined {
  return typeof navigator !== "undefined" ? (navigator.locks as PageLocks | undefined) : undefined;
}

/** Holds `page`'s lock until the document goes (the callback never settles). */
function holdPageLock(locks: PageLocks, page: string): void {
  let pages = held.get(locks);
  if (!pages) held.set(locks, (pages = new Set()));
  if (pages.has(page)) return;
  pages.add(page);
  void locks.request(LOCK_PREFIX + page, {}, () => new Promise(() => {})).catch(() => {});
}

/**
 * Keeps the outbox in `localStorage`, one key per message (`{key}#{client_message_id}`, `key` naming the
 * booking and user), shared safely by every page of the origin (see the file's opening). Falls back to memory
 * when storage is unavailable (private mode, quota): sending must never fail because storage did.
 */
export function localStorageOutbox(key: string, options: LocalStorageOutboxOptions = {}): OutboxStore {
  const locks = "locks" in options ? options.locks : defaultLocks();
  const page = options.page ?? (documentPage ??= randomId());
  if (locks) holdPageLock(locks, page);
  const memory = memoryOutbox();
  const prefix = `${key}#`;
  let usable = true;
  const store = (): Storage | undefined => {
    try {
      return usable ? (options.storage ?? globalThis.localStorage) : undefined;
    } catch {
      return undefined;
    }
  };
  const write = (s: Storage, entry: OutboxEntry, owner: string) => {
    try {
      s.setItem(prefix + entry.client_message_id, JSON.stringify({ ...entry, page: owner }));
    } catch {
      // Quota or privacy mode: from now on the memory copy is the outbox, delivered within this page's life.
      usable = false;
    }
  };
  /** Every stored entry of this key, whoever delivers it. */
  const scan = (s: Storage): Stored[] => {
    const found: Stored[] = [];
    for (let i = 0; i < s.length; i++) {
      const k = s.key(i);
      if (!k?.startsWith(prefix)) continue;
      try {
        const value: unknown = JSON.parse(s.getItem(k) ?? "null");
        if (isEntry(value) && k === prefix + value.client_message_id) {
          found.push({ ...value, page: typeof (value as Stored).page === "string" ? (value as Stored).page : "" });
        }
      } catch {
        // Not ours, or damaged: left alone.
      }
    }
    return found.sort((a, b) => a.created_at - b.created_at);
  };
  /** Makes `entries` this page's, in storage; returns them without the owner. */
  const take = (s: Storage, entries: Stored[]): OutboxEntry[] =>
    entries.map(({ page: _, ...entry }) => {
      write(s, entry, page);
      return entry;
    });
  /** Moves an outbox of the one-array format (an older version) to one key per message. */
  const migrate = (s: Storage) => {
    try {
      const legacy: unknown = JSON.parse(s.getItem(key) ?? "null");
      s.removeItem(key);
      if (Array.isArray(legacy)) for (const e of legacy.filter(isEntry)) write(s, e, page);
    } catch {
      // Nothing to move.
    }
  };

  return {
    load() {
      const s = store();
      if (!s) return memory.load();
      migrate(s);
      // Without locks nothing tells a closed page from an open one: take everything (see `locks`).
      return take(s, scan(s).filter((e) => e.page === page || !locks));
    },
    put(entry) {
      memory.put(entry);
      const s = store();
      if (s) write(s, entry, page);
    },
    remove(cmid) {
      memory.remove(cmid);
      try {
        store()?.removeItem(prefix + cmid);
      } catch {
        // Storage gone: the memory copy is the outbox.
      }
    },
    watch(adopt) {
      if (!locks) return () => {};
      const stop = new AbortController();
      const waiting = new Set<string>();
      const look = () => {
        const s = store();
        if (!s) return;
        for (const { page: owner } of scan(s)) {
          if (owner === page || waiting.has(owner)) continue;
          waiting.add(owner);
          // Granted when the owner's document is gone (at once for a page that closed before): its entries
          // are this page's now. Another page granted the lock after us finds them taken.
          locks
            .request(LOCK_PREFIX + owner, { signal: stop.signal }, async () => {
              waiting.delete(owner);
              const st = store();
              const orphans = st ? take(st, scan(st).filter((e) => e.page === owner)) : [];
              if (orphans.length && !stop.signal.aborted) adopt(orphans);
            })
            .catch(() => waiting.delete(owner));
        }
      };
      const onChange =
        options.onChange ??
        ((listener: () => void) => {
          if (typeof addEventListener !== "function") return () => {};
          const onStorage = (event: StorageEvent) => (event.key === null || event.key.startsWith(prefix)) && listener();
          addEventListener("storage", onStorage);
          return () => removeEventListener("storage", onStorage);
        });
      const unsubscribe = onChange(look);
      look();
      return () => {
        stop.abort();
        unsubscribe();
      };
    },
  };
}
