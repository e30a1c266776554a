//! The search of `<booking-chat>` (issue 26): a button in the header opens a `role="search"` form above the
//! messages. What is typed is searched after a pause (`DEBOUNCE_MS`) and at once on Enter (`ChatClient.search`, the
//! booking's messages); the results are a list (who wrote each, when, and the server's snippet with the query's
//! words marked), counted in a polite status, with "More results" while the server has more. Choosing one asks the
//! element to show that message (`SearchHost.show`); Escape closes the search and gives the focus back to its
//! button. A snippet is members' text: it only ever goes into text nodes and `<mark>` elements, never parsed.

import type { ChatClient, ChatError } from "../client/client.js";
import type { MessageId, SearchResult } from "../client/frames.js";
import { h } from "./dom.js";
import type { ChatStrings } from "./strings.js";

/** How long after the last keystroke the query is searched. */
const DEBOUNCE_MS = 300;

/** What the search needs of its element, read at each use. */
export interface SearchHost {
  client(): ChatClient | undefined;
  strings(): ChatStrings;
  /** A user's display name. */
  name(userId: string): string;
  /** The page's language, for times. */
  lang(): string | undefined;
  /** Loads a message of the booking into the timeline and shows it (closing the search); rejects when it cannot. */
  show(messageId: MessageId): Promise<void>;
}

/** Text as searches compare it: lowercase, without diacritics ("Été" is "ete"). */
const fold = (text: string): string => text.normalize("NFD").replace(/\p{M}/gu, "").toLowerCase();

/**
 * The query's words (its runs of letters and digits) found in a snippet, ignoring case and diacritics as the
 * server's search does ("cafe" finds "Café"), the longest first: the snippet cut into pieces, alternately not
 * matched and matched (the first not matched, maybe empty). Joined, the pieces are the snippet.
 */
export function highlight(snippet: string, query: string): string[] {
  const words = fold(query).match(/[\p{L}\p{N}]+/gu)?.sort((a, b) => b.length - a.length);
  if (!words) return [snippet];
  // The snippet folded, and where each of its code units' character starts in the snippet.
  let folded = "";
  const at: number[] = [];
  let i = 0;
  for (const c of snippet) {
    const f = fold(c);
    folded += f;
    for (let n = f.length; n--; ) at.push(i);
    i += c.length;
  }
  at.push(i);
  const pieces: string[] = [];
  let last = 0;
  // Letters and digits only: nothing in the pattern is special.
  for (const m of folded.matchAll(new RegExp(words.join("|"), "g"))) {
    const start = at[m.index]!;
    pieces.push(snippet.slice(last, start), snippet.slice(start, (last = at[m.index + m[0].length]!)));
  }
  pieces.push(snippet.slice(last));
  return pieces;
}

/** How long ago `time` was, in the page's language: "5 minutes ago", "yesterday", "3 weeks ago". */
export function ago(time: number, lang: string | undefined, now = Date.now()): string {
  let value = (time - now) / 1000;
  let unit: Intl.RelativeTimeFormatUnit = "second";
  for (const [size, next] of [[60, "minute"], [60, "hour"], [24, "day"], [7, "week"], [4.35, "month"], [12, "year"]] as const) {
    if (Math.abs(value) < size) break;
    value /= size;
    unit = next;
  }
  // Whole units gone by: 13 days is "last week", not "2 weeks ago".
  return new Intl.RelativeTimeFormat(lang, { numeric: "auto" }).format(Math.trunc(value), unit);
}

/** The header's search button and the panel it opens. */
export class Search {
  /** Opens and closes the panel (for the header). */
  readonly button = h("button", { part: "search", type: "button", "aria-expanded": "false", "aria-controls": "search" }, "🔍");
  /** The search form, its status and its results (above the messages). */
  readonly panel = h("div", { class: "search", id: "search", hidden: "" });
  readonly #input = h("input", { role: "searchbox", part: "search-input", maxlength: "200", autocomplete: "off", enterkeyhint: "search" });
  readonly #close = h("button", { type: "button", part: "search-close" }, "×");
  readonly #status = h("p", { role: "status", part: "search-status" });
  readonly #list = h("ol", { part: "results" });
  readonly #more = h("button", { type: "button", class: "older", part: "more", hidden: "" });
  #timer: ReturnType<typeof setTimeout> | undefined;
  /** Bumped by every search (and a reset): an answer to an earlier one is dropped. */
  #seq = 0;
  /** The query of the results listed, and the cursor of their next page. */
  #query = "";
  #next: string | null = null;

  constructor(private readonly host: SearchHost) {
    const form = h("form", { role: "search", part: "search-form" }, this.#input, this.#close);
    this.panel.append(form, this.#status, this.#list, this.#more);
    this.button.onclick = () => (this.panel.hidden ? this.open() : this.close());
    this.#close.onclick = () => this.close();
    this.#input.oninput = () => {
      clearTimeout(this.#timer);
      this.#timer = setTimeout(() => this.#search(), DEBOUNCE_MS);
    };
    form.onsubmit = (event) => {
      event.preventDefault();
      this.#search();
    };
    // Escape anywhere in the panel (the box, a result, More results), unless it ends an input method's composition.
    this.panel.onkeydown = (event) => {
      if (event.key !== "Escape" || event.isComposing) return;
      event.preventDefault();
      this.close();
    };
    this.#more.onclick = () => this.#search(this.#next);
    this.#list.onclick = (event) => {
      const id = (event.target as Element).closest("button")?.dataset.id;
      if (id) this.host.show(Number(id)).catch((error: Error) => this.#say(this.host.strings().showFailed(error.message)));
    };
  }

  /** Puts the element's words in (its `strings`). */
  applyStrings(s: ChatStrings): void {
    this.button.setAttribute("aria-label", s.search);
    this.#input.setAttribute("aria-label", s.searchLabel);
    this.#input.placeholder = s.searchLabel;
    this.#close.setAttribute("aria-label", s.close);
    this.#more.textContent = s.moreResults;
  }

  /** Shows the panel, the focus in its search box (what was searched last still there). */
  open(): void {
    this.panel.hidden = false;
    this.button.setAttribute("aria-expanded", "true");
    this.#input.focus();
  }

  /** Hides the panel; the focus goes back to the header's button unless `refocus` is false (a result was chosen). */
  close(refocus = true): void {
    clearTimeout(this.#timer);
    this.panel.hidden = true;
    this.button.setAttribute("aria-expanded", "false");
    if (refocus) this.button.focus();
  }

  /** Forgets the query and its results (another client: another booking), and closes. */
  reset(): void {
    this.#seq++;
    this.#input.value = "";
    this.#clear();
    this.close(false);
  }

  /** Searches what the box says (`before`: the next page of the results listed). */
  #search(before?: string | null): void {
    clearTimeout(this.#timer);
    const seq = ++this.#seq;
    const query = before ? this.#query : this.#input.value.trim();
    const client = this.host.client();
    if (!query || !client) return this.#clear();
    client.search(query, before ? { before } : {}).then(
      (answer) => {
        if (seq !== this.#seq) return;
        this.#query = query;
        this.#next = answer.next;
        this.#show(answer.results, answer.has_more && answer.next !== null, !!before);
      },
      (error: ChatError) => {
        if (seq !== this.#seq) return;
        // A query the server does not take (punctuation alone): nothing to say yet.
        if (error.code === "VALIDATION_ERROR") this.#clear();
        else this.#say(this.host.strings().searchFailed(error.message));
      },
    );
  }

  /** Lists `results` (after those listed, with `append`: the focus goes to the first new one) and says how many. */
  #show(results: SearchResult[], more: boolean, append = false): void {
    const { host } = this;
    const s = host.strings();
    const me = host.client()?.me;
    const lang = host.lang();
    const items = results.map((r) =>
      h(
        "li",
        {},
        h(
          "button",
          { type: "button", part: "result", "data-id": String(r.message_id) },
          h("span", { class: "sender" }, r.sender_id === me ? s.you : host.name(r.sender_id)),
          h("time", { datetime: new Date(r.created_at).toISOString() }, ago(r.created_at, lang)),
          h("span", { class: "snippet", part: "snippet", dir: "auto" }, ...highlight(r.snippet, this.#query).map((piece, i) => (i % 2 ? h("mark", { part: "match" }, piece) : piece))),
        ),
      ),
    );
    if (append) this.#list.append(...items);
    else this.#list.replaceChildren(...items);
    this.#more.hidden = !more;
    const count = this.#list.childElementCount;
    this.#say(count ? s.results(count, more) : this.#query && s.noResults(this.#query));
    // (An empty page: the last one listed, as More results goes.)
    if (append) (items[0] ?? this.#list.lastElementChild)?.querySelector("button")?.focus();
  }

  /** No query: no results, nothing said. */
  #clear(): void {
    this.#query = "";
    this.#show([], false);
  }

  /** Says `text` in the status (a new text node, so that the same words are announced again). */
  #say(text: string): void {
    this.#status.replaceChildren(text);
  }
}
