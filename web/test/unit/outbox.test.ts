// One user's outbox shared by several pages (tabs) over one localStorage: nothing a page writes is lost or
// overwritten by another, a page that closes with messages unsent hands them to one other page, which
// delivers them with their client_message_id, and no message shows twice.

import { afterEach, beforeEach, expect, it, vi } from "vitest";
import { localStorageOutbox, type OutboxEntry } from "../../src/client/outbox.js";
import { SharedLocks, SharedStorage } from "./pages.js";
import { msg, online, setup, tick } from "./scripted.js";

beforeEach(() => {
  vi.useFakeTimers({ now: new Date("2026-11-22T10:00:00Z") });
});
afterEach(() => {
  vi.useRealTimers();
});

const KEY = "booking-chat:outbox:1:alice";

/** An origin: its storage and locks, and its pages, each a client of booking 1 for alice. */
function origin() {
  const storage = new SharedStorage();
  const locks = new SharedLocks();
  return {
    storage,
    /** A page with its client (not started). */
    page(name: string) {
      const t = setup(
        {},
        localStorageOutbox(KEY, { storage: storage.for(name), locks: locks.for(name), page: name, onChange: storage.onChange(name) }),
      );
      return Object.assign(t, { close: () => (t.client.close(), locks.close(name)) });
    },
    /** The client_message_ids stored. */
    stored: () => [...storage.items.keys()].map((k) => k.slice(KEY.length + 1)),
  };
}

const sent = (socket: { actions(a: "send_message"): { data?: { client_message_id?: string } }[] }) =>
  socket.actions("send_message").map((f) => f.data?.client_message_id);

it("two pages never overwrite each other's unsent messages", async () => {
  const o = origin();
  // Both pages are open before either writes (with one array per origin, B's write replaced A's).
  const a = o.page("A");
  const b = o.page("B");
  const fromA = a.client.send("from A, offline").clientMessageId!;
  const socket = await online(b);
  const fromB = b.client.send("from B").clientMessageId!;
  socket.echo(msg(1, "alice", "from B", fromB), sent(socket).length);
  expect(o.stored()).toEqual([fromA]);
  a.close();
  const c = o.page("C");
  const socketC = await online(c);
  expect(c.client.timeline.map((m) => [m.client_message_id, m.state])).toEqual([[fromA, "sending"]]);
  expect(sent(socketC)).toEqual([fromA]);
});

it("a page that closes mid-send hands its message to another open page, which delivers it once with its client_message_id", async () => {
  const o = origin();
  const a = o.page("A");
  const b = o.page("B");
  const socketA = await online(a);
  const socketB = await online(b);
  const cmid = a.client.send("written in A").clientMessageId!;
  expect(sent(socketA)).toEqual([cmid]); // never answered: A's connection is stuck
  expect(sent(socketB)).toEqual([]); // A is open: its message is A's to send
  await tick(1_000);
  expect(sent(socketB)).toEqual([]);

  a.close();
  await tick();
  expect(sent(socketB)).toEqual([cmid]);
  expect(b.client.timeline.map((m) => [m.body, m.state])).toEqual([["written in A", "sending"]]);
  socketB.echo(msg(7, "alice", "written in A", cmid));
  expect(b.client.timeline.map((m) => [m.body, m.state])).toEqual([["written in A", "sent"]]);
  expect(o.stored()).toEqual([]);
});

it("two open pages adopt a closed page's message once between them", async () => {
  const o = origin();
  const a = o.page("A");
  const cmid = a.client.send("written in A").clientMessageId!;
  const b = o.page("B");
  const c = o.page("C");
  const socketB = await online(b);
  const socketC = await online(c);
  a.close();
  await tick();
  expect([...sent(socketB), ...sent(socketC)]).toEqual([cmid]);
  const shown = [...b.client.timeline, ...c.client.timeline].filter((m) => m.client_message_id === cmid);
  expect(shown).toHaveLength(1);
});

it("an adopted message the server already has is not sent again and shows once", async () => {
  const o = origin();
  const a = o.page("A");
  const b = o.page("B");
  const socketA = await online(a);
  const socketB = await online(b);
  const cmid = a.client.send("stored, echo lost").clientMessageId!;
  // The server stored it and told the booking; A closed before its copy arrived.
  socketB.echo(msg(3, "alice", "stored, echo lost", cmid));
  void socketA;
  a.close();
  await tick();
  expect(sent(socketB)).toEqual([]);
  expect(b.client.timeline.map((m) => [m.body, m.state])).toEqual([["stored, echo lost", "sent"]]);
  expect(o.stored()).toEqual([]);
});

it("a page adopts messages written after it started, when their page closes", async () => {
  const o = origin();
  const b = o.page("B");
  const socketB = await online(b);
  const a = o.page("A");
  const cmid = a.client.send("later").clientMessageId!;
  await tick();
  expect(sent(socketB)).toEqual([]);
  a.close();
  await tick();
  expect(sent(socketB)).toEqual([cmid]);
});

it("a stopped client adopts nothing; started again, it does", async () => {
  const o = origin();
  const a = o.page("A");
  const cmid = a.client.send("x").clientMessageId!;
  const b = o.page("B");
  a.close();
  await tick();
  expect(b.client.timeline).toEqual([]);
  const socket = await online(b);
  expect(sent(socket)).toEqual([cmid]);
});

it("an outbox of the one-array format is moved to one key per message and delivered", async () => {
  const o = origin();
  const old: OutboxEntry = { client_message_id: "0123456789abcdef0123456789abcdef", body: "from 0.1", created_at: 1, sender_id: "alice" };
  o.storage.for("old").setItem(KEY, JSON.stringify([old]));
  const a = o.page("A");
  expect(a.client.timeline.map((m) => m.body)).toEqual(["from 0.1"]);
  const socket = await online(a);
  expect(sent(socket)).toEqual([old.client_message_id]);
  expect(o.storage.items.has(KEY)).toBe(false);
});

it("without Web Locks, a page takes every message it finds when it starts (a reload delivers them)", () => {
  const storage = new SharedStorage();
  const first = setup({}, localStorageOutbox(KEY, { storage: storage.for("A"), locks: undefined, page: "A" }));
  const cmid = first.client.send("before the reload").clientMessageId!;
  first.client.close();
  const second = setup({}, localStorageOutbox(KEY, { storage: storage.for("B"), locks: undefined, page: "B" }));
  expect(second.client.timeline.map((m) => [m.client_message_id, m.state])).toEqual([[cmid, "sending"]]);
});
