// Trust and safety in the client, against the scripted server: the chat state (from `chat_state` frames and
// `history` answers, writable from a server that says nothing), block, unblock and report settled by their
// answers, the BLOCKED and CHAT_CLOSED refusals (the state they tell, a message refused for good), hidden contact
// details and messages the marketplace removed.

import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { WRITABLE_CHAT } from "../../src/client/client.js";
import type { ChatStateView, ServerFrame } from "../../src/client/frames.js";
import { msg, online, setup, tick, type ScriptedSocket } from "./scripted.js";

beforeEach(() => {
  vi.useFakeTimers({ now: new Date("2026-11-22T10:00:00Z") });
});
afterEach(() => {
  vi.useRealTimers();
});

const CLOSED: ChatStateView = {
  writable: false,
  closed: { reason: "moderator", at: 1_700_000_000_000, note: "Closed after a report" },
  read_only_at: null,
  blocks: [],
};
const BOB_BLOCKED_ALICE: ChatStateView = { ...WRITABLE_CHAT, blocks: [{ user_id: "bob", blocked_user_id: "alice", at: 5 }] };
const ALICE_BLOCKED_BOB: ChatStateView = { ...WRITABLE_CHAT, blocks: [{ user_id: "alice", blocked_user_id: "bob", at: 6 }] };

/** A `chat_state` frame of booking 1 showing `state`, answering `requestId` if given. */
function chatState(socket: ScriptedSocket, state: ChatStateView, requestId?: string | number): void {
  const frame = { type: "chat_state" as const, booking_id: 1, ...state };
  socket.receive(requestId === undefined ? frame : { ...frame, request_id: String(requestId) });
}

describe("the chat state", () => {
  it("is writable with no blocks until the server says otherwise (a server without it never does)", async () => {
    const t = setup();
    expect(t.client.chatState).toEqual(WRITABLE_CHAT);
    await online(t, [msg(1)]);
    expect(t.client.chatState).toEqual({ writable: true, closed: null, read_only_at: null, blocks: [] });
  });

  it("comes with the history answer, and each chat_state frame replaces it, emitted once per change", async () => {
    const t = setup();
    const states: ChatStateView[] = [];
    t.client.on("chat_state", (s) => states.push(s));
    t.client.start();
    await tick();
    t.socket.accept();
    const ending = { ...WRITABLE_CHAT, read_only_at: Date.now() + 86_400_000 };
    t.socket.answerSync([msg(1)], false, { chat_state: ending });
    expect(t.client.chatState).toEqual(ending);
    chatState(t.socket, CLOSED);
    expect(t.client.chatState).toEqual(CLOSED);
    // The same state again (a resume's history, a repeated frame) is no change.
    chatState(t.socket, CLOSED);
    expect(states).toEqual([ending, CLOSED]);
    // Reopened by the operator.
    chatState(t.socket, WRITABLE_CHAT);
    expect(t.client.chatState.writable).toBe(true);
    expect(states.length).toBe(3);
  });

  it("a history answer without chat_state (a server before it) leaves the state as it was", async () => {
    const t = setup();
    const socket = await online(t);
    chatState(socket, BOB_BLOCKED_ALICE);
    socket.drop();
    await tick(1_000);
    t.socket.accept();
    t.socket.answerSync([]);
    expect(t.client.chatState).toEqual(BOB_BLOCKED_ALICE);
  });

  it("is kept per booking: two conversations' frames do not mix", async () => {
    const a = setup();
    const b = setup({ bookingId: 2 });
    const socketA = await online(a);
    await online(b);
    chatState(socketA, CLOSED);
    expect(a.client.chatState).toEqual(CLOSED);
    expect(b.client.chatState).toEqual(WRITABLE_CHAT);
  });
});

describe("block, unblock and report", () => {
  it("block() sends block and resolves with the chat state of the chat_state frame answering its request_id", async () => {
    const t = setup();
    const socket = await online(t);
    const blocked = t.client.block();
    const [frame] = socket.actions("block");
    expect(frame).toEqual({ action: "block", request_id: expect.any(String) });
    chatState(socket, ALICE_BLOCKED_BOB, frame!.request_id);
    await expect(blocked).resolves.toEqual(ALICE_BLOCKED_BOB);
  });

  it("unblock() is settled by the next chat_state even when the server's broadcast names no request", async () => {
    const t = setup();
    const socket = await online(t);
    chatState(socket, ALICE_BLOCKED_BOB);
    let settled = false;
    const unblocked = t.client.unblock().finally(() => (settled = true));
    expect(socket.actions("unblock")).toEqual([{ action: "unblock", request_id: expect.any(String) }]);
    // Another frame is not the answer.
    socket.receive({ type: "typing", booking_id: 1, user_id: "bob", is_typing: true });
    await tick();
    expect(settled).toBe(false);
    chatState(socket, WRITABLE_CHAT);
    await expect(unblocked).resolves.toEqual(WRITABLE_CHAT);
  });

  it("a refused block rejects with the server's error (and is not an error event); an unanswered one with TIMEOUT", async () => {
    const t = setup();
    const socket = await online(t);
    const errors: string[] = [];
    t.client.on("error", (f) => errors.push(f.error.code));
    const blocked = t.client.block();
    const [frame] = socket.actions("block");
    socket.receive({ type: "error", error: { code: "VALIDATION_ERROR", message: "nobody to block" }, request_id: String(frame!.request_id) });
    await expect(blocked).rejects.toMatchObject({ name: "ChatError", code: "VALIDATION_ERROR", message: "nobody to block" });
    expect(errors).toEqual([]);
    const again = t.client.block().catch((e: { code: string }) => e.code);
    await tick(10_000);
    expect(await again).toBe("TIMEOUT");
  });

  it("report() sends the reason, the message and the details, and resolves with the report_received's report_id", async () => {
    const t = setup();
    const socket = await online(t, [msg(4)]);
    const reported = t.client.report({ reason: "off_platform", message_id: 4, details: "asks to pay by bank transfer" });
    const [frame] = socket.actions("report");
    expect(frame).toEqual({
      action: "report",
      data: { reason: "off_platform", message_id: 4, details: "asks to pay by bank transfer" },
      request_id: expect.any(String),
    });
    socket.receive({ type: "report_received", booking_id: 1, report_id: "r-81", request_id: String(frame!.request_id) });
    await expect(reported).resolves.toBe("r-81");
  });

  it("report() of the member (no message) rejects with the server's refusal, e.g. details too long", async () => {
    const t = setup();
    const socket = await online(t);
    const reported = t.client.report({ reason: "other", details: "x".repeat(1001) });
    const [frame] = socket.actions("report");
    expect(frame!.data).toEqual({ reason: "other", details: "x".repeat(1001) });
    socket.receive({ type: "error", error: { code: "VALIDATION_ERROR", message: "details: at most 1000 characters" }, request_id: String(frame!.request_id) });
    await expect(reported).rejects.toMatchObject({ code: "VALIDATION_ERROR" });
  });

  it("while not connected each rejects at once with NOT_CONNECTED (none is queued)", async () => {
    const t = setup();
    await expect(t.client.block()).rejects.toMatchObject({ code: "NOT_CONNECTED" });
    await expect(t.client.unblock()).rejects.toMatchObject({ code: "NOT_CONNECTED" });
    await expect(t.client.report({ reason: "spam" })).rejects.toMatchObject({ code: "NOT_CONNECTED" });
  });
});

describe("BLOCKED and CHAT_CLOSED", () => {
  it("a message refused with BLOCKED is failed for good (Retry, Discard), not resent, and the state says alice is blocked", async () => {
    const t = setup();
    const socket = await online(t);
    const states: ChatStateView[] = [];
    t.client.on("chat_state", (s) => states.push(s));
    const sent = t.client.send("hello?");
    const [frame] = socket.actions("send_message");
    socket.receive({ type: "error", error: { code: "BLOCKED", message: "blocked" }, request_id: String(frame!.request_id) });
    await expect(sent).rejects.toMatchObject({ code: "BLOCKED" });
    expect(t.client.timeline.at(-1)).toMatchObject({ state: "failed", error: { code: "BLOCKED" } });
    await tick(60_000);
    expect(socket.actions("send_message").length).toBe(1);
    expect(t.client.chatState.blocks).toEqual([{ user_id: "", blocked_user_id: "alice", at: 0 }]);
    // Refused again (typing, no request): the same state, not a new one; the server's frame then replaces it.
    socket.receive({ type: "error", error: { code: "BLOCKED", message: "blocked" } });
    expect(states.length).toBe(1);
    chatState(socket, BOB_BLOCKED_ALICE);
    expect(t.client.chatState).toEqual(BOB_BLOCKED_ALICE);
  });

  it("a message refused with CHAT_CLOSED is failed for good, and the chat is read-only until the server says more", async () => {
    const t = setup();
    const socket = await online(t);
    const sent = t.client.send("one more thing");
    const [frame] = socket.actions("send_message");
    socket.receive({ type: "error", error: { code: "CHAT_CLOSED", message: "read-only" }, request_id: String(frame!.request_id) });
    await expect(sent).rejects.toMatchObject({ code: "CHAT_CLOSED" });
    expect(t.client.timeline.at(-1)).toMatchObject({ state: "failed" });
    expect(t.client.chatState).toEqual({ ...WRITABLE_CHAT, writable: false });
    chatState(socket, CLOSED);
    expect(t.client.chatState).toEqual(CLOSED);
  });

  it("an edit or a reaction refused with either rejects with its code and tells the state; an unanswered refusal is an error event too", async () => {
    const t = setup();
    const socket = await online(t, [msg(1, "alice"), msg(2)]);
    const errors: string[] = [];
    t.client.on("error", (f) => errors.push(f.error.code));
    const edited = t.client.edit(1, "changed");
    const [edit] = socket.actions("edit_message");
    socket.receive({ type: "error", error: { code: "CHAT_CLOSED", message: "read-only" }, request_id: String(edit!.request_id) });
    await expect(edited).rejects.toMatchObject({ code: "CHAT_CLOSED" });
    expect(t.client.chatState.writable).toBe(false);
    const reacted = t.client.react(2, "👍");
    const [react] = socket.actions("react");
    socket.receive({ type: "error", error: { code: "BLOCKED", message: "blocked" }, request_id: String(react!.request_id) });
    await expect(reacted).rejects.toMatchObject({ code: "BLOCKED" });
    expect(t.client.chatState.blocks.map((b) => b.blocked_user_id)).toEqual(["alice"]);
    expect(errors).toEqual([]);
    socket.receive({ type: "error", error: { code: "BLOCKED", message: "blocked" } });
    expect(errors).toEqual(["BLOCKED"]);
  });
});

describe("messages", () => {
  it("masked comes with the sender's copy (frame event); the body holds the placeholders", async () => {
    const t = setup();
    const socket = await online(t);
    const frames: ServerFrame[] = [];
    t.client.on("frame", (f) => frames.push(f));
    const sent = t.client.send("call me on +44 20 7946 0958");
    const [frame] = socket.actions("send_message");
    const stored = { ...msg(3, "alice", "call me on [phone number hidden until the booking is confirmed]", frame!.data!.client_message_id!) };
    socket.receive({ type: "message", booking_id: 1, message: stored, masked: ["phone"], request_id: String(frame!.request_id) });
    await expect(sent).resolves.toMatchObject({ body: stored.body });
    expect(frames.at(-1)).toMatchObject({ type: "message", masked: ["phone"] });
  });

  it("a message the marketplace removed is a tombstone with its reason, replacing the message in place", async () => {
    const t = setup();
    const socket = await online(t, [msg(1), msg(2)]);
    const moderation = { reason: "Asking for payment outside the marketplace", at: 1_700_000_100_000 };
    socket.receive({ type: "message_updated", booking_id: 1, message: { ...msg(1), body: "", deleted: true, moderation } });
    expect(t.client.timeline.map((m) => [m.id, m.deleted, m.moderation?.reason])).toEqual([
      [1, true, moderation.reason],
      [2, false, undefined],
    ]);
  });
});
