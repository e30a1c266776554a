// The per-user channel: one scripted user socket carrying the inbox and a conversation per booking, each with its
// own timeline, outbox and promises; renewal by a new connection before the token expires; membership changes.

import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { ChatMessage, ClientFrame } from "../../src/client/frames.js";
import type { SocketFactory } from "../../src/client/transport.js";
import { UserChannel, type InboxBooking } from "../../src/client/user.js";
import { jwt, msg, ScriptedNetwork, ScriptedSocket, tick } from "./scripted.js";

beforeEach(() => {
  vi.useFakeTimers({ now: new Date("2026-11-22T10:00:00Z") });
});
afterEach(() => {
  vi.useRealTimers();
});

/** A message of booking `booking`. */
const bmsg = (booking: number, id: number, sender = "bob", body = `${booking}/${id}`, cmid: string | null = null): ChatMessage => ({
  ...msg(id, sender, body, cmid),
  booking_id: booking,
});

const entry = (booking_id: number, active_at: number, last?: ChatMessage): InboxBooking => ({
  booking_id,
  title: `Booking ${booking_id}`,
  status: "confirmed",
  owner_id: "alice",
  renter_id: "bob",
  other_user_id: "bob",
  active_at,
  last_message: last ?? null,
  unread_count: 0,
  last_read_message_id: null,
  other_last_read_message_id: null,
});

type Sent = ClientFrame & { booking_id?: number };

function setup(inbox: InboxBooking[] = [entry(7, 2_000), entry(8, 1_000)], ttlMs = 3_600_000) {
  const sockets: ScriptedSocket[] = [];
  const factory: SocketFactory = (url, protocols, handlers) => {
    const socket = new ScriptedSocket(url, protocols, handlers);
    sockets.push(socket);
    return socket;
  };
  const fetches: string[] = [];
  let answer = inbox;
  const channel = new UserChannel({
    url: "wss://chat.example/prod",
    apiUrl: "https://api.example/",
    token: async () => jwt("alice", ttlMs),
    fetch: (async (url: string, init: { headers: Record<string, string> }) => {
      fetches.push(`${url} ${init.headers.authorization?.slice(0, 7)}`);
      return new Response(JSON.stringify({ bookings: answer }), { status: 200 });
    }) as unknown as typeof fetch,
    client: { socket: factory, network: new ScriptedNetwork(), random: () => 0.5 },
  });
  return {
    channel,
    sockets,
    fetches,
    setInbox: (next: InboxBooking[]) => void (answer = next),
    get socket(): ScriptedSocket {
      return sockets.at(-1)!;
    },
    /** The frames sent on the user socket naming `booking`. */
    sent: (action: string, booking: number, socket = sockets.at(-1)!) =>
      (socket.sent as Sent[]).filter((f) => f.action === action && f.booking_id === booking),
  };
}

/** Answers a conversation's last sync on the user socket with a page of its booking. */
function answerSync(t: ReturnType<typeof setup>, booking: number, messages: ChatMessage[], socket = t.socket): void {
  const sync = t.sent("sync", booking, socket).at(-1)!;
  socket.receive({ type: "history", booking_id: booking, messages, has_more: false, synced_at: Date.now(), request_id: String(sync.request_id) });
}

async function online(t: ReturnType<typeof setup>): Promise<ScriptedSocket> {
  t.channel.start();
  await tick();
  t.socket.accept();
  await tick();
  return t.socket;
}

describe("the per-user channel", () => {
  it("connects once with ?type=user, fetches the inbox with the token, and keeps it sorted by activity", async () => {
    const t = setup();
    const socket = await online(t);
    expect(t.sockets.length).toBe(1);
    expect(socket.url).toBe("wss://chat.example/prod?type=user");
    expect(t.fetches).toEqual(["https://api.example/api/chat/inbox Bearer "]);
    expect(t.channel.inbox.map((b) => b.booking_id)).toEqual([7, 8]);
    socket.receive({ type: "message", booking_id: 8, message: { ...bmsg(8, 3), created_at: 5_000 } });
    socket.receive({ type: "unread", booking_id: 8, unread_count: 1, last_read_message_id: 2 });
    expect(t.channel.inbox.map((b) => [b.booking_id, b.unread_count, b.last_message?.body ?? null])).toEqual([
      [8, 1, "8/3"],
      [7, 0, null],
    ]);
    expect(t.channel.unreadCount).toBe(1);
    socket.receive({ type: "receipt", booking_id: 8, user_id: "alice", last_read_message_id: 3 });
    socket.receive({ type: "unread", booking_id: 8, unread_count: 0, last_read_message_id: 3 });
    socket.receive({ type: "booking_status", booking_id: 7, status: "cancelled", previous_status: "confirmed", changed_by: "bob" });
    expect(t.channel.inbox.map((b) => [b.booking_id, b.unread_count, b.status, b.last_read_message_id])).toEqual([
      [8, 0, "confirmed", 3],
      [7, 0, "cancelled", null],
    ]);
  });

  it("keeps one timeline per booking: each conversation syncs its own booking over the one socket, and frames go where they belong", async () => {
    const t = setup();
    const socket = await online(t);
    const seven = t.channel.conversation(7);
    const eight = t.channel.conversation(8);
    expect(t.channel.conversation(7)).toBe(seven);
    seven.start();
    eight.start();
    await tick();
    expect(t.sockets.length).toBe(1);
    answerSync(t, 7, [bmsg(7, 1), bmsg(7, 2)]);
    answerSync(t, 8, [bmsg(8, 1)]);
    expect(seven.status.state).toBe("online");
    expect(eight.status.state).toBe("online");
    socket.receive({ type: "message", booking_id: 8, message: bmsg(8, 2) });
    expect(seven.timeline.map((m) => m.body)).toEqual(["7/1", "7/2"]);
    expect(eight.timeline.map((m) => m.body)).toEqual(["8/1", "8/2"]);
    expect(t.channel.connection.timeline).toEqual([]); // the connection itself merges nothing
  });

  it("sends through each booking's outbox on the user socket, naming the booking, and settles the promise by the answer", async () => {
    const t = setup();
    const socket = await online(t);
    const seven = t.channel.conversation(7);
    seven.start();
    await tick();
    answerSync(t, 7, []);
    const sent = seven.send("On my way");
    const [frame] = t.sent("send_message", 7);
    expect(frame).toMatchObject({ booking_id: 7, data: { body: "On my way", client_message_id: sent.clientMessageId } });
    expect(seven.timeline.map((m) => m.state)).toEqual(["sending"]);
    socket.receive({ type: "message", booking_id: 7, message: bmsg(7, 9, "alice", "On my way", sent.clientMessageId!), request_id: String(frame!.request_id) });
    await expect(sent).resolves.toMatchObject({ id: 9, booking_id: 7 });
    expect(seven.timeline.map((m) => m.state)).toEqual(["sent"]);
    // The inbox hears the sender's copy too (it is the only copy the user socket gets).
    expect(t.channel.inbox[0]).toMatchObject({ booking_id: 7, last_message: { id: 9 } });
    // A refusal answers the conversation that asked, and no one else.
    const edited = seven.edit(9, "late");
    const [edit] = t.sent("edit_message", 7);
    const errors: string[] = [];
    t.channel.connection.on("error", (e) => errors.push(e.error.code));
    socket.receive({ type: "error", booking_id: 7, error: { code: "VALIDATION_ERROR", message: "window passed" }, request_id: String(edit!.request_id) });
    await expect(edited).rejects.toMatchObject({ code: "VALIDATION_ERROR" });
    expect(errors).toEqual([]);
  });

  it("a drop of the user socket drops every conversation; the next connection resumes each and delivers what was written meanwhile", async () => {
    const t = setup();
    const first = await online(t);
    const seven = t.channel.conversation(7);
    seven.start();
    await tick();
    answerSync(t, 7, [bmsg(7, 1)]);
    first.drop();
    expect(seven.status.state).toBe("reconnecting");
    const sent = seven.send("written while down");
    await tick(1_000);
    const second = t.socket;
    expect(second).not.toBe(first);
    second.accept();
    await tick(1_000);
    const resume = t.sent("sync", 7, second).at(-1)!;
    expect(resume.data).toMatchObject({ from_message_id: 1 });
    answerSync(t, 7, [bmsg(7, 2)], second);
    expect(seven.status.state).toBe("online");
    const [frame] = t.sent("send_message", 7, second);
    expect(frame?.data).toMatchObject({ body: "written while down" });
    second.receive({ type: "message", booking_id: 7, message: bmsg(7, 3, "alice", "written while down", sent.clientMessageId!), request_id: String(frame!.request_id) });
    await expect(sent).resolves.toMatchObject({ id: 3 });
    expect(t.fetches.length).toBe(2); // the inbox again after the gap
  });

  it("is replaced by a new connection before the token expires: conversations stay online and an answer on the replaced socket still arrives", async () => {
    const t = setup(undefined, 600_000);
    const first = await online(t);
    const seven = t.channel.conversation(7);
    seven.start();
    await tick();
    answerSync(t, 7, [bmsg(7, 1)]);
    await tick(541_000);
    expect(t.sockets.length).toBe(2);
    const reacted = seven.react(1, "👍");
    const [react] = t.sent("react", 7, first);
    const second = t.socket;
    second.accept();
    expect(first.closed).toBeUndefined(); // lingers for answers on their way
    expect(t.channel.status.state).toBe("online");
    expect(seven.status.state).toBe("online");
    first.receive({ type: "reaction", booking_id: 7, message_id: 1, user_id: "alice", emoji: "👍", added: true, reactions: [], request_id: String(react!.request_id) });
    await expect(reacted).resolves.toMatchObject({ added: true });
    await tick(5_000);
    expect(first.closed?.byClient).toBe(true);
    // New frames go out on the new socket.
    void seven.markRead(1).catch(() => {});
    expect(t.sent("read", 7, second).length).toBe(1);
    expect([...first.sent, ...second.sent].map((f) => f.action).filter((a) => a === "refresh" || a === "session")).toEqual([]);
  });

  it("learns of a booking created after it connected (membership true: the inbox is fetched again) and drops one it was removed from", async () => {
    const t = setup([entry(7, 2_000)]);
    const socket = await online(t);
    const seven = t.channel.conversation(7);
    seven.start();
    await tick();
    answerSync(t, 7, []);
    t.setInbox([entry(9, 3_000), entry(7, 2_000)]);
    socket.receive({ type: "membership", booking_id: 9, user_id: "alice", member: true });
    await tick();
    expect(t.channel.inbox.map((b) => b.booking_id)).toEqual([9, 7]);
    socket.receive({ type: "membership", booking_id: 7, user_id: "alice", member: false });
    expect(t.channel.inbox.map((b) => b.booking_id)).toEqual([9]);
    expect(seven.status).toMatchObject({ state: "stopped", reason: "removed" });
  });

  it("names a booking in the connection's own pings, as a user connection must", async () => {
    const t = setup();
    const socket = await online(t);
    await tick(270_000);
    const ping = (socket.sent as Sent[]).find((f) => f.action === "ping");
    expect(ping?.booking_id).toBe(7);
  });
});
