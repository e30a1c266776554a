//! The messages of one booking as the client knows them: stored messages de-duplicated and ordered by id, then
//! the outbox's messages not yet acknowledged. Pure data; no I/O and no timers.

import type { Attachment, ChatMessage, MessageId, Moderation, ReactionSummary } from "./frames.js";
import type { OutboxEntry } from "./outbox.js";

/** Where a message of the timeline stands. */
export type MessageState = "sending" | "sent" | "failed";

/** A message as a UI shows it. Objects are replaced, never mutated, when something about them changes. */
export interface TimelineMessage {
  /**
   * Stable across the message's life: the `client_message_id` for the user's own messages (so a message
   * keeps its key when the server acknowledges it), else the server id.
   */
  key: string;
  /** The server id; absent until the server has stored the message. */
  id?: MessageId;
  client_message_id: string | null;
  sender_id: string;
  body: string;
  created_at: number;
  reactions: ReactionSummary[];
  /** `sent` for every stored message; `sending` or `failed` for the outbox's. */
  state: MessageState;
  /** Written by the user of this client. */
  mine: boolean;
  /** Why the server refused it, for `failed`. */
  error?: { code: string; message: string };
  /** When its author last edited it (epoch ms); absent or `null` if never, and for the outbox's. */
  edited_at?: number | null;
  /** A tombstone: its author deleted it; `body` is empty. Absent for the outbox's. */
  deleted?: boolean;
  /** On a tombstone the marketplace's moderators hid: why, and when. */
  moderation?: Moderation;
  /** Its files (for the outbox's, those it will send). */
  attachments?: Attachment[];
}

/** What `upsert` did. */
export type Upserted = "new" | "changed" | "same";

/** Stored messages by id, kept sorted. */
export class Timeline {
  #byId = new Map<MessageId, ChatMessage>();
  #ids: MessageId[] = [];
  #cache = new Map<string, TimelineMessage>();

  /**
   * Adds or replaces a stored message, unless `message` is an older state of one already here: frames may
   * arrive out of order (a `history` page read before a delete, delivered after its `message_updated`), and a
   * deleted message must not come back, nor an edit be undone.
   */
  upsert(message: ChatMessage): Upserted {
    const old = this.#byId.get(message.id);
    if (old && ((old.deleted && !message.deleted) || (message.edited_at ?? 0) < (old.edited_at ?? 0))) return "same";
    this.#byId.set(message.id, message);
    if (!old) {
      // Usually appended; a binary search keeps the order when a page of older history or a late frame arrives.
      let lo = 0;
      let hi = this.#ids.length;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if ((this.#ids[mid] ?? 0) < message.id) lo = mid + 1;
        else hi = mid;
      }
      this.#ids.splice(lo, 0, message.id);
      return "new";
    }
    return JSON.stringify(old) === JSON.stringify(message) ? "same" : "changed";
  }

  /** A stored message. */
  get(id: MessageId): ChatMessage | undefined {
    return this.#byId.get(id);
  }

  /** The highest stored id. */
  get newest(): MessageId | undefined {
    return this.#ids[this.#ids.length - 1];
  }

  /** The lowest stored id. */
  get oldest(): MessageId | undefined {
    return this.#ids[0];
  }

  /** The stored messages in id order, then the outbox's. Unchanged messages keep their object. */
  view(outbox: readonly OutboxEntry[], me: string | undefined): TimelineMessage[] {
    const cache = new Map<string, TimelineMessage>();
    const reuse = (item: TimelineMessage): TimelineMessage => {
      const old = this.#cache.get(item.key);
      const same = old && JSON.stringify(old) === JSON.stringify(item);
      cache.set(item.key, same ? old : item);
      return same ? old : item;
    };
    const items: TimelineMessage[] = [];
    for (const id of this.#ids) {
      const m = this.#byId.get(id);
      if (!m) continue;
      const mine = me !== undefined && m.sender_id === me;
      items.push(
        reuse({
          ...m,
          key: mine && m.client_message_id ? `c:${m.client_message_id}` : `m:${m.id}`,
          state: "sent",
          mine,
        }),
      );
    }
    for (const e of outbox) {
      if (cache.has(`c:${e.client_message_id}`)) continue;
      const item: TimelineMessage = {
        key: `c:${e.client_message_id}`,
        client_message_id: e.client_message_id,
        sender_id: e.sender_id ?? me ?? "",
        body: e.body,
        created_at: e.created_at,
        reactions: [],
        state: e.failed ? "failed" : "sending",
        mine: true,
      };
      if (e.failed) item.error = e.failed;
      if (e.attachments?.length) item.attachments = e.attachments;
      items.push(reuse(item));
    }
    this.#cache = cache;
    return items;
  }
}
