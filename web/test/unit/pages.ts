// Several pages (tabs) of one origin, for the outbox's unit tests: one `localStorage` they share, whose writes
// notify the other pages (the `storage` event), and a Web Locks manager whose locks a page holds until it
// closes.

import type { PageLocks } from "../../src/client/outbox.js";

/** One origin's `localStorage`, shared by its pages. */
export class SharedStorage {
  readonly #items = new Map<string, string>();
  readonly #listeners = new Map<string, Set<() => void>>();

  /** The `Storage` as `page` sees it: its own writes notify every other page. */
  for(page: string): Storage {
    const notify = () => {
      for (const [other, listeners] of this.#listeners) if (other !== page) for (const l of listeners) queueMicrotask(l);
    };
    const items = this.#items;
    return {
      get length() {
        return items.size;
      },
      key: (i: number) => [...items.keys()][i] ?? null,
      getItem: (k: string) => items.get(k) ?? null,
      setItem: (k: string, v: string) => {
        items.set(k, String(v));
        notify();
      },
      removeItem: (k: string) => {
        items.delete(k);
        notify();
      },
      clear: () => {
        items.clear();
        notify();
      },
    };
  }

  /** Subscribes `page` to the other pages' writes. */
  onChange(page: string): (listener: () => void) => () => void {
    return (listener) => {
      let set = this.#listeners.get(page);
      if (!set) this.#listeners.set(page, (set = new Set()));
      set.add(listener);
      return () => set.delete(listener);
    };
  }

  /** Every key and value. */
  get items(): ReadonlyMap<string, string> {
    return this.#items;
  }
}

/** A Web Locks manager (exclusive locks, granted in request order) whose pages can close. */
export class SharedLocks {
  readonly #holder = new Map<string, string>();
  readonly #queue = new Map<string, { page: string; grant: () => void }[]>();
  readonly #closed = new Set<string>();

  /** `navigator.locks` as `page` sees it. */
  for(page: string): PageLocks {
    return {
      request: (name, options, callback) =>
        new Promise((resolve, reject) => {
          if (this.#closed.has(page)) return;
          const grant = () => {
            this.#holder.set(name, page);
            void callback()
              .then(resolve, reject)
              .finally(() => this.#release(name, page));
          };
          options.signal?.addEventListener("abort", () => {
            const queue = this.#queue.get(name) ?? [];
            const i = queue.findIndex((q) => q.grant === grant);
            if (i >= 0) {
              queue.splice(i, 1);
              reject(new DOMException("aborted", "AbortError"));
            }
          });
          if (this.#holder.has(name)) {
            const queue = this.#queue.get(name) ?? [];
            this.#queue.set(name, [...queue, { page, grant }]);
          } else {
            grant();
          }
        }),
    };
  }

  /** The page's document goes: its locks are released, its waiting requests dropped. */
  close(page: string): void {
    this.#closed.add(page);
    for (const [name, queue] of this.#queue) {
      this.#queue.set(
        name,
        queue.filter((q) => q.page !== page),
      );
    }
    for (const [name, holder] of [...this.#holder]) if (holder === page) this.#release(name, page);
  }

  #release(name: string, page: string): void {
    if (this.#holder.get(name) !== page) return;
    this.#holder.delete(name);
    const next = this.#queue.get(name)?.shift();
    if (next) queueMicrotask(next.grant);
  }
}
