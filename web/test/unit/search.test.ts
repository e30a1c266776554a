// Search (issue 26) against the scripted server: `search` sends its frame and is settled by the answer naming its
// request (out of order, beside a foreign answer), rejected by the server's refusal, a timeout or a drop; paging
// with `before`; `loadUntil` loading earlier pages back to a result; the `search_results` shape; and the
// element's pure parts: the query's words marked in a snippet (case-insensitively, markup kept as text) and the
// relative times of results.

import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { parseServerFrame, type SearchResult } from "../../src/client/frames.js";
import { ago, highlight } from "../../src/ui/search.js";
import { msg, online, setup, tick, type ScriptedSocket } from "./scripted.js";

beforeEach(() => {
  vi.useFakeTimers({ now: new Date("2026-11-22T10:00:00Z") });
});
afterEach(() => {
  vi.useRealTimers();
});

const result = (id: number, snippet = `…the canoe ${id}…`, sender = "bob"): SearchResult => ({
  booking_id: 1,
  message_id: id,
  sender_id: sender,
  created_at: 1_700_000_000_000 + id,
  snippet,
});

/** The `search_results` answer to the `index`-th search sent (default the last). */
function answer(socket: ScriptedSocket, results: SearchResult[], next: string | null = null, index = -1): void {
  const sent = socket.actions("search").at(index)!;
  socket.receive({
    type: "search_results",
    booking_id: 1,
    query: sent.data!.query,
    scope: sent.data!.scope ?? "booking",
    results,
    has_more: next !== null,
    next,
    request_id: String(sent.request_id),
  });
}

describe("search", () => {
  it("sends the query with its options and a request id, and resolves with the answer naming it", async () => {
    const t = setup();
    const socket = await online(t);
    const found = t.client.search("canoe", { scope: "all", limit: 5 });
    const [sent] = socket.actions("search");
    expect(sent).toMatchObject({ action: "search", data: { query: "canoe", scope: "all", limit: 5 } });
    expect(sent!.request_id).toEqual(expect.any(String));
    answer(socket, [result(9), result(4)], "c-4");
    const page = await found;
    expect(page.results.map((r) => r.message_id)).toEqual([9, 4]);
    expect(page).toMatchObject({ has_more: true, next: "c-4", query: "canoe", scope: "all" });
  });

  it("a search without options sends the query alone (the server's defaults: this booking, 20)", async () => {
    const t = setup();
    const socket = await online(t);
    void t.client.search("paddle");
    expect(socket.actions("search")[0]!.data).toEqual({ query: "paddle" });
  });

  it("two searches answered in reverse order each get their own answer; a foreign one settles neither", async () => {
    const t = setup();
    const socket = await online(t);
    const first = t.client.search("canoe");
    const second = t.client.search("canoe saturday");
    const settled: string[] = [];
    void first.then(() => settled.push("first"));
    void second.then(() => settled.push("second"));
    // Another tab's answer (the server sends to the sender only, but an id may collide with nothing here).
    socket.receive({ type: "search_results", booking_id: 1, query: "x", scope: "booking", results: [], has_more: false, next: null, request_id: "someone-else" });
    await tick();
    expect(settled).toEqual([]);
    answer(socket, [result(2)], null, 1);
    answer(socket, [result(1)], null, 0);
    expect((await second).results[0]!.message_id).toBe(2);
    expect((await first).results[0]!.message_id).toBe(1);
  });

  it("pages with before: the next page asks from the last answer's cursor", async () => {
    const t = setup();
    const socket = await online(t);
    const first = t.client.search("canoe", { limit: 2 });
    answer(socket, [result(9), result(8)], "cursor-8");
    const page = await first;
    const second = t.client.search("canoe", { limit: 2, before: page.next! });
    expect(socket.actions("search")[1]!.data).toEqual({ query: "canoe", limit: 2, before: "cursor-8" });
    answer(socket, [result(3)]);
    expect(await second).toMatchObject({ has_more: false, next: null, results: [result(3)] });
  });

  it("the server's refusal rejects with its code and message, and is not an error event", async () => {
    const t = setup();
    const socket = await online(t);
    const errors: unknown[] = [];
    t.client.on("error", (e) => errors.push(e));
    const refused = t.client.search("!!");
    const sent = socket.actions("search")[0]!;
    socket.receive({ type: "error", error: { code: "VALIDATION_ERROR", message: "a search needs a letter or a digit" }, request_id: String(sent.request_id) });
    await expect(refused).rejects.toMatchObject({ code: "VALIDATION_ERROR", message: "a search needs a letter or a digit" });
    expect(errors).toEqual([]);
  });

  it("rejects with NOT_CONNECTED before the connection, TIMEOUT without an answer, DISCONNECTED when it drops", async () => {
    const t = setup({ ackTimeoutMs: 5_000 });
    await expect(t.client.search("canoe")).rejects.toMatchObject({ code: "NOT_CONNECTED" });
    const socket = await online(t);
    const unanswered = t.client.search("canoe");
    const caught = unanswered.catch((e: unknown) => e);
    await tick(5_000);
    expect(await caught).toMatchObject({ code: "TIMEOUT" });
    const dropped = t.client.search("canoe").catch((e: unknown) => e);
    socket.drop();
    expect(await dropped).toMatchObject({ code: "DISCONNECTED" });
  });

  it("a malformed answer (a result without its snippet) is not taken: the search times out", async () => {
    const t = setup({ ackTimeoutMs: 5_000 });
    const socket = await online(t);
    const found = t.client.search("canoe").catch((e: unknown) => e);
    const { snippet: _gone, ...bad } = result(1);
    const sent = socket.actions("search")[0]!;
    socket.receive({ type: "search_results", booking_id: 1, query: "canoe", scope: "booking", results: [bad as SearchResult], has_more: false, next: null, request_id: String(sent.request_id) });
    await tick(5_000);
    expect(await found).toMatchObject({ code: "TIMEOUT" });
  });

  it("the search_results frame is read leniently, like every frame (a newer server's extra field kept)", () => {
    const text = JSON.stringify({ type: "search_results", booking_id: 1, query: "q", scope: "all", results: [result(1)], has_more: false, next: null, timestamp: 1, rank: "bm25" });
    expect(parseServerFrame(text)).toMatchObject({ type: "search_results", results: [result(1)] });
    expect(parseServerFrame(text.replace('"next":null', '"next":5'))).toBeUndefined();
  });
});

/** Brings the client online with `page` as the latest page, older messages existing. */
async function latest(t: ReturnType<typeof setup>, page: ReturnType<typeof msg>[]): Promise<ScriptedSocket> {
  t.client.start();
  await tick();
  t.socket.accept();
  t.socket.answerSync(page, true);
  return t.socket;
}

describe("loadUntil", () => {
  it("resolves at once for a message already in the timeline, asking nothing", async () => {
    const t = setup();
    const socket = await online(t, [msg(10), msg(11)]);
    const syncs = socket.actions("sync").length;
    await t.client.loadUntil(10);
    expect(socket.actions("sync").length).toBe(syncs);
  });

  it("loads earlier pages, each before the oldest held, until the message is in; the timeline stays whole", async () => {
    const t = setup({ pageSize: 3 });
    const socket = await latest(t, [msg(20), msg(21), msg(22)]);
    const shown = t.client.loadUntil(15);
    await tick();
    expect(socket.actions("sync").at(-1)!.data).toEqual({ before_message_id: 20, limit: 3 });
    socket.answerSync([msg(17), msg(18), msg(19)], true);
    await tick();
    expect(socket.actions("sync").at(-1)!.data).toEqual({ before_message_id: 17, limit: 3 });
    socket.answerSync([msg(14), msg(15), msg(16)], true);
    await shown;
    expect(t.client.timeline.map((m) => m.id)).toEqual([14, 15, 16, 17, 18, 19, 20, 21, 22]);
    expect(t.client.hasOlder).toBe(true);
  });

  it("rejects with NOT_FOUND when the history ends without the message", async () => {
    const t = setup({ pageSize: 2 });
    const socket = await latest(t, [msg(20), msg(21)]);
    const shown = t.client.loadUntil(3).catch((e: unknown) => e);
    await tick();
    socket.answerSync([msg(18), msg(19)], false);
    expect(await shown).toMatchObject({ code: "NOT_FOUND" });
    expect(t.client.timeline.map((m) => m.id)).toEqual([18, 19, 20, 21]);
  });
});

describe("highlight", () => {
  /** The marked pieces (odd indices). */
  const marked = (pieces: string[]) => pieces.filter((_, i) => i % 2);

  it("cuts the snippet at each of the query's words, alternately unmarked and marked, joined back to the snippet", () => {
    const snippet = "…is the canoe free on Saturday? The canoe";
    const pieces = highlight(snippet, "canoe saturday");
    expect(pieces).toEqual(["…is the ", "canoe", " free on ", "Saturday", "? The ", "canoe", ""]);
    expect(pieces.join("")).toBe(snippet);
  });

  it("ignores case, diacritics and punctuation, and prefers the longest word where two overlap", () => {
    expect(marked(highlight("CANOES and Canoe", "canoe"))).toEqual(["CANOE", "Canoe"]);
    expect(marked(highlight("canoes", "can, canoes!"))).toEqual(["canoes"]);
    const pieces = highlight("Été à Zürich, au café", "ete ZURICH cafe");
    expect(pieces).toEqual(["", "Été", " à ", "Zürich", ", au ", "café", ""]);
    // Decomposed text (e + a combining accent) keeps its accent inside the mark.
    expect(marked(highlight("cafe\u0301!", "café"))).toEqual(["cafe\u0301"]);
    expect(marked(highlight("😀 canoe 😀", "canoe"))).toEqual(["canoe"]);
  });

  it("leaves a snippet whole when the query has no word, and takes no word as a pattern", () => {
    expect(highlight("a (b) c", "!!")).toEqual(["a (b) c"]);
    expect(highlight("a.b", ".")).toEqual(["a.b"]);
  });

  it("keeps markup in a snippet as text: the pieces are the characters the member wrote", () => {
    const snippet = '<img src=x onerror="alert(1)"> is the canoe <b>free</b>?';
    const pieces = highlight(snippet, "img canoe");
    expect(pieces.join("")).toBe(snippet);
    expect(pieces).toEqual(["<", "img", ' src=x onerror="alert(1)"> is the ', "canoe", " <b>free</b>?"]);
  });
});

describe("ago", () => {
  const now = Date.parse("2026-11-22T10:00:00Z");
  it("says how long ago in whole units of the largest unit reached, in the page's language", () => {
    expect(ago(now - 30_000, "en", now)).toBe("30 seconds ago");
    expect(ago(now - 5 * 60_000, "en", now)).toBe("5 minutes ago");
    expect(ago(now - 3 * 3_600_000, "en", now)).toBe("3 hours ago");
    expect(ago(now - 86_400_000, "en", now)).toBe("yesterday");
    expect(ago(now - 13 * 86_400_000, "en", now)).toBe("last week");
    expect(ago(now - 15 * 86_400_000, "en", now)).toBe("2 weeks ago");
    expect(ago(now - 100 * 86_400_000, "en", now)).toBe("3 months ago");
    expect(ago(now - 800 * 86_400_000, "en", now)).toBe("2 years ago");
    expect(ago(now - 5 * 60_000, "fr", now)).toBe("il y a 5 minutes");
  });
});
