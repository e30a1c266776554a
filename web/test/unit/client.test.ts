// The client's state machine against a scripted socket and fake timers: connecting, refusals, backoff,
// resume, de-duplication, the outbox, keep-alive, proactive reconnects and typing.

import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { equalJitter, fullJitter } from "../../src/client/backoff.js";
import { ChatClient, SignedOutError } from "../../src/client/client.js";
import { readClaims } from "../../src/client/jwt.js";
import { localStorageOutbox, memoryOutbox } from "../../src/client/outbox.js";
import { SharedStorage } from "./pages.js";
import { jwt, msg, online, setup, tick } from "./scripted.js";

beforeEach(() => {
  vi.useFakeTimers({ now: new Date("2026-11-22T10:00:00Z") });
});
afterEach(() => {
  vi.useRealTimers();
});

describe("connecting", () => {
  it("offers chat.v1 and the token as the bearer subprotocol, names the booking, and syncs the latest page", async () => {
    const t = setup();
    t.client.start();
    await tick();
    expect(t.socket.url).toBe("wss://chat.example/prod?booking_id=1");
    expect(t.socket.protocols[0]).toBe("chat.v1");
    expect(readClaims(t.socket.protocols[1]!.replace(/^bearer\./, "")).sub).toBe("alice");
    t.socket.accept();
    expect(t.socket.actions("sync")).toEqual([{ action: "sync", data: { limit: 50 }, request_id: expect.any(String) }]);
    t.socket.answerSync([msg(1), msg(2)]);
    expect(t.client.status.state).toBe("online");
    expect(t.client.timeline.map((m) => m.id)).toEqual([1, 2]);
    expect(t.client.me).toBe("alice");
  });

  it("asks the token provider again on every reconnect", async () => {
    const t = setup();
    const socket = await online(t);
    socket.drop();
    await tick(1_000);
    t.socket.refuse();
    await tick(2_000);
    expect(t.tokenCalls.length).toBe(3);
    expect(t.sockets.length).toBe(3);
  });

  it("fetches a fresh token before connecting when the provider hands out an expired one", async () => {
    let calls = 0;
    const t = setup({
      token: async ({ forceRefresh }) => {
        calls++;
        return forceRefresh ? jwt("alice") : jwt("alice", -60_000);
      },
    });
    t.client.start();
    await tick();
    expect(calls).toBe(2);
    expect(readClaims(t.socket.protocols[1]!.slice(7)).expiresAt).toBeGreaterThan(Date.now());
  });

  it("a token provider that fails is retried with backoff, never given up", async () => {
    let fail = true;
    const t = setup({
      token: async () => {
        if (fail) throw new Error("offline");
        return jwt("alice");
      },
    });
    t.client.start();
    for (let i = 0; i < 20; i++) await tick(30_000);
    expect(t.client.status.state).toBe("reconnecting");
    expect(t.sockets.length).toBe(0);
    fail = false;
    await tick(30_000);
    expect(t.sockets.length).toBe(1);
  });
});

it("a token provider that never answers is abandoned after the connect timeout, and asked again", async () => {
  let calls = 0;
  const t = setup({
    token: () => (++calls === 1 ? new Promise<string>(() => {}) : Promise.resolve(jwt("alice"))),
  });
  t.client.start();
  await tick(14_999);
  expect(t.sockets.length).toBe(0);
  await tick(1);
  expect(t.client.status.state).toBe("reconnecting");
  await tick(1_000);
  expect(calls).toBe(2);
  expect(t.sockets.length).toBe(1);
});

describe("backoff", () => {
  it("full jitter: uniform below an exponentially growing ceiling, capped", () => {
    const options = { baseMs: 1_000, capMs: 30_000 };
    expect([0, 1, 2, 3, 4, 5, 6].map((a) => fullJitter(a, options, () => 0.999_999))).toEqual([
      999, 1_999, 3_999, 7_999, 15_999, 29_999, 29_999,
    ]);
    expect(fullJitter(3, options, () => 0)).toBe(0);
    expect(fullJitter(1_000, options, () => 0.5)).toBe(15_000);
  });

  it("equal jitter: at least half the ceiling, so each wait is longer than the one before until the cap", () => {
    const options = { baseMs: 1_000, capMs: 30_000 };
    expect([0, 1, 2, 3, 4, 5, 6].map((a) => equalJitter(a, options, () => 0))).toEqual([500, 1_000, 2_000, 4_000, 8_000, 15_000, 15_000]);
    expect([0, 1, 2, 3, 4, 5].map((a) => equalJitter(a, options, () => 0.999_999))).toEqual([999, 1_999, 3_999, 7_999, 15_999, 29_999]);
  });

  it("handshakes refused for a passing reason (5xx) are retried forever, with delays growing to the cap", async () => {
    const t = setup();
    t.client.start();
    const delays: number[] = [];
    for (let i = 0; i < 40; i++) {
      await tick();
      const before = t.sockets.length;
      t.socket.refuse(503);
      const { retryAt } = t.client.status;
      expect(retryAt).toBeDefined();
      delays.push(retryAt! - Date.now());
      await tick(retryAt! - Date.now());
      expect(t.sockets.length).toBe(before + 1);
    }
    expect(delays.slice(0, 6)).toEqual([500, 1_000, 2_000, 4_000, 8_000, 15_000]);
    expect(delays.at(-1)).toBe(15_000);
    expect(t.client.status.state).toBe("connecting");
  });

  it("a good connection resets the backoff", async () => {
    const t = setup();
    t.client.start();
    for (let i = 0; i < 5; i++) {
      await tick();
      t.socket.refuse(503);
      await tick(t.client.status.retryAt! - Date.now());
    }
    t.socket.accept();
    t.socket.answerSync([]);
    t.socket.drop();
    expect(t.client.status).toMatchObject({ state: "reconnecting", attempt: 1 });
    expect(t.client.status.retryAt! - Date.now()).toBe(500);
  });

  it("the browser's online event reconnects at once instead of waiting", async () => {
    const t = setup();
    t.client.start();
    for (let i = 0; i < 6; i++) {
      await tick();
      t.socket.refuse(503);
      await tick(t.client.status.retryAt! - Date.now());
    }
    t.socket.refuse(503);
    expect(t.client.status.retryAt! - Date.now()).toBeGreaterThan(10_000);
    const count = t.sockets.length;
    t.network.goOnline();
    await tick();
    expect(t.sockets.length).toBe(count + 1);
  });

  it("while the device is offline it waits for the online event", async () => {
    const t = setup();
    const socket = await online(t);
    t.network.online = false;
    socket.drop();
    expect(t.client.status.state).toBe("offline");
    await tick(5_000);
    expect(t.sockets.length).toBe(1);
    t.network.goOnline();
    await tick();
    expect(t.sockets.length).toBe(2);
  });
});

describe("refused handshakes are handled by their meaning", () => {
  it("401: a fresh token is fetched for the retry", async () => {
    const t = setup({ probe: async () => 401 });
    t.client.start();
    await tick();
    t.socket.refuse();
    await tick(1_000);
    expect(t.tokenCalls).toEqual([false, true]);
    expect(t.sockets.length).toBe(2);
  });

  it("403: stops and says the user is not a member", async () => {
    const t = setup({ probe: async () => 403 });
    t.client.start();
    await tick();
    t.socket.refuse();
    await tick(60_000);
    expect(t.client.status).toMatchObject({ state: "stopped", reason: "forbidden" });
    expect(t.sockets.length).toBe(1);
  });

  it("404: stops and says the booking does not exist, when the transport sees the status itself", async () => {
    const t = setup();
    t.client.start();
    await tick();
    t.socket.refuse(404);
    await tick(60_000);
    expect(t.client.status).toMatchObject({ state: "stopped", reason: "not_found" });
  });

  it("a probe that cannot reach the backend counts as a passing failure", async () => {
    const t = setup({
      probe: async () => {
        throw new TypeError("failed to fetch");
      },
    });
    t.client.start();
    await tick();
    t.socket.refuse();
    await tick();
    expect(t.client.status.state).toBe("reconnecting");
  });

  it("close code 1008 (token expired on an open connection) and TOKEN_EXPIRED fetch a fresh token", async () => {
    const t = setup();
    let socket = await online(t);
    socket.drop(1008);
    await tick(1_000);
    expect(t.tokenCalls.at(-1)).toBe(true);
    socket = t.socket;
    socket.accept();
    socket.answerSync([]);
    socket.receive({ type: "error", error: { code: "TOKEN_EXPIRED", message: "token expired" } });
    socket.drop(1000);
    await tick(1_000);
    expect(t.tokenCalls).toEqual([false, true, true]);
  });
});

describe("removed from the booking", () => {
  it("REMOVED_FROM_BOOKING stops the client for good (removed), says so with the error, and nothing is retried", async () => {
    const t = setup();
    const socket = await online(t, [msg(1)]);
    const errors: string[] = [];
    t.client.on("error", (f) => errors.push(f.error.code));
    t.client.send("after the removal");
    socket.receive({ type: "error", error: { code: "REMOVED_FROM_BOOKING", message: "you are no longer a member of this booking" } });
    socket.drop(1000); // API Gateway closes with a code nobody chose
    expect(t.client.status).toMatchObject({ state: "stopped", reason: "removed" });
    expect(errors).toEqual(["REMOVED_FROM_BOOKING"]);
    await tick(120_000);
    expect(t.sockets.length).toBe(1);
    expect(t.tokenCalls.length).toBe(1);
    expect(t.client.timeline.map((m) => m.body)).toEqual(["message 1", "after the removal"]); // kept, unsent
  });

  it("close code 4403 (the direct WebSocket's) stops it the same way when the error frame did not arrive", async () => {
    const t = setup();
    const socket = await online(t);
    socket.drop(4403);
    expect(t.client.status).toMatchObject({ state: "stopped", reason: "removed" });
    await tick(120_000);
    expect(t.sockets.length).toBe(1);
  });
});

describe("refused handshakes without a probe", () => {
  /** Refuses every handshake until the client stops or `max` sockets have been refused. */
  async function refuseAll(t: ReturnType<typeof setup>, max = 20): Promise<void> {
    for (let i = 0; i < max && t.client.status.state !== "stopped"; i++) {
      await tick();
      t.socket.refuse();
      if (t.client.status.retryAt !== undefined) await tick(t.client.status.retryAt - Date.now());
    }
  }

  it("are retried with backoff and a fresh token a few times, then stop with handshake_refused, and reconnect() starts again", async () => {
    const t = setup();
    t.client.start();
    await refuseAll(t);
    expect(t.client.status).toMatchObject({ state: "stopped", reason: "handshake_refused" });
    expect(t.sockets.length).toBe(5);
    expect(t.tokenCalls).toEqual([false, true, true, true, true]);
    expect(t.statuses.map((s) => s.state).filter((s) => s === "reconnecting")).toHaveLength(4);
    await tick(600_000);
    expect(t.sockets.length).toBe(5);
    expect(t.tokenCalls.length).toBe(5);

    t.client.reconnect();
    await tick();
    expect(t.sockets.length).toBe(6);
    t.socket.accept();
    t.socket.answerSync([]);
    expect(t.client.status.state).toBe("online");
  });

  it("count only refusals in a row: a handshake that opens starts the count again", async () => {
    const t = setup();
    t.client.start();
    for (let round = 0; round < 3; round++) {
      for (let i = 0; i < 4; i++) {
        await tick();
        t.socket.refuse();
        await tick(t.client.status.retryAt! - Date.now());
      }
      t.socket.accept();
      t.socket.answerSync([]);
      t.socket.drop();
      await tick(t.client.status.retryAt! - Date.now());
    }
    expect(t.client.status.state).toBe("connecting");
  });

  it("a connect timeout is not a refusal: retried without end", async () => {
    const t = setup();
    t.client.start();
    for (let i = 0; i < 12; i++) {
      await tick(15_000);
      await tick(t.client.status.retryAt! - Date.now());
    }
    expect(t.sockets.length).toBe(13);
    expect(t.client.status.state).toBe("connecting");
  });
});

describe("signed out", () => {
  it("a provider answering null stops the client (signed_out) before any socket, and nothing is retried until reconnect()", async () => {
    let signedIn = false;
    let calls = 0;
    const t = setup({
      token: async () => {
        calls++;
        return signedIn ? jwt("alice") : null;
      },
    });
    t.client.start();
    await tick();
    expect(t.client.status).toMatchObject({ state: "stopped", reason: "signed_out" });
    expect(t.statuses.at(-1)).toMatchObject({ state: "stopped", reason: "signed_out" });
    await tick(600_000);
    expect(calls).toBe(1);
    expect(t.sockets.length).toBe(0);
    signedIn = true;
    t.client.reconnect();
    await tick();
    t.socket.accept();
    t.socket.answerSync([]);
    expect(t.client.status.state).toBe("online");
  });

  it("a provider throwing SignedOutError while renewing closes the open connection and stops", async () => {
    let signedIn = true;
    const t = setup({
      token: async () => {
        if (!signedIn) throw new SignedOutError();
        return jwt("alice", 600_000);
      },
    });
    t.client.start();
    await tick();
    const socket = t.socket;
    socket.autoSession = true;
    socket.accept();
    socket.answerSync([]);
    await tick();
    signedIn = false;
    await tick(540_000);
    expect(socket.closed).toMatchObject({ byClient: true });
    expect(t.client.status).toMatchObject({ state: "stopped", reason: "signed_out" });
    await tick(600_000);
    expect(t.sockets.length).toBe(1);
  });

  it("an error of another copy of the class counts, by its name", async () => {
    const t = setup({
      token: async () => {
        throw Object.assign(new Error("gone"), { name: "SignedOutError" });
      },
    });
    t.client.start();
    await tick();
    expect(t.client.status).toMatchObject({ state: "stopped", reason: "signed_out" });
  });
});

describe("resume", () => {
  it("after a reconnect it syncs from the last message it has, page by page", async () => {
    const t = setup();
    let socket = await online(t, [msg(1), msg(2)]);
    socket.drop();
    await tick(1_000);
    socket = t.socket;
    socket.accept();
    expect(socket.actions("sync").at(-1)?.data).toEqual({ after_message_id: 2 });
    socket.answerSync([msg(3), msg(4)], true);
    expect(socket.actions("sync").at(-1)?.data).toEqual({ after_message_id: 4 });
    expect(t.client.status.state).toBe("connecting");
    socket.answerSync([msg(5)]);
    expect(t.client.status.state).toBe("online");
    expect(t.client.timeline.map((m) => m.id)).toEqual([1, 2, 3, 4, 5]);
  });

  it("resumes with every change since the last complete sync, from the oldest message held; the answer replaces what the timeline held", async () => {
    const t = setup();
    let socket = await online(t, [msg(1, "bob"), msg(2, "bob"), msg(3, "bob"), msg(4, "alice")]);
    expect(socket.actions("sync").at(-1)?.data).toEqual({ limit: 50 }); // the first connection: the latest page
    socket.answerSync([], false, { synced_at: 1_000 }); // a stray answer changes nothing
    socket = t.socket;
    socket.drop();
    await tick(1_000);
    socket = t.socket;
    socket.accept();
    expect(socket.actions("sync").at(-1)?.data).toEqual({ after_message_id: 4 }); // the first answer had no synced_at
    socket.answerSync([], false, { synced_at: 10_000, read_positions: [{ user_id: "bob", last_read_message_id: 3 }] });
    socket.receive({ type: "receipt", booking_id: 1, user_id: "carol", last_read_message_id: 2 });
    expect(t.client.receipts.get("bob")).toBe(3);
    socket.drop(); // the gap: bob edits 1, deletes 2, reacts to 4 and reads it, and writes 5
    await tick(1_000);
    socket = t.socket;
    socket.accept();
    expect(socket.actions("sync").at(-1)?.data).toEqual({ from_message_id: 1, changed_since: 10_000 });
    const reactions = [{ emoji: "👍", count: 1, user_ids: ["bob"] }];
    socket.answerSync(
      [
        { ...msg(1, "bob", "edited in the gap"), edited_at: 11_000 },
        { ...msg(2, "bob", ""), edited_at: 12_000, deleted: true },
        msg(3, "bob"), // unchanged, within the server's margin
        { ...msg(4, "alice"), reactions },
        msg(5, "bob", "new in the gap"),
      ],
      false,
      { synced_at: 20_000, read_positions: [{ user_id: "bob", last_read_message_id: 4 }] },
    );
    expect(t.client.status.state).toBe("online");
    expect(t.client.timeline.map((m) => [m.id, m.body, m.deleted, m.edited_at, m.reactions])).toEqual([
      [1, "edited in the gap", false, 11_000, []],
      [2, "", true, 12_000, []],
      [3, "message 3", false, null, []],
      [4, "message 4", false, null, reactions],
      [5, "new in the gap", false, null, []],
    ]);
    // The answer's read positions replace the receipts: carol is no longer listed.
    expect([...t.client.receipts]).toEqual([["bob", 4]]);
    socket.drop();
    await tick(1_000);
    t.socket.accept();
    expect(t.socket.actions("sync").at(-1)?.data).toEqual({ from_message_id: 1, changed_since: 20_000 });
  });

  it("follows has_more from the last id + 1 with the same changed_since; the cursor is the first page's synced_at, moved only by a complete resume", async () => {
    const t = setup();
    t.client.start();
    await tick();
    let socket = t.socket;
    socket.accept();
    socket.answerSync([msg(5), msg(6)], true, { synced_at: 1_000 });
    void t.client.loadOlder();
    socket.answerSync([msg(4)], true, { synced_at: 1_500 }); // an older page moves nothing
    socket.drop();
    await tick(1_000);
    socket = t.socket;
    socket.accept();
    expect(socket.actions("sync").at(-1)?.data).toEqual({ from_message_id: 4, changed_since: 1_000 });
    socket.answerSync([msg(5), msg(7)], true, { synced_at: 2_000 });
    expect(socket.actions("sync").at(-1)?.data).toEqual({ from_message_id: 8, changed_since: 1_000 });
    expect(t.client.status.state).toBe("connecting");
    socket.drop(); // the resume breaks off: it never completed
    await tick(1_000);
    socket = t.socket;
    socket.accept();
    expect(socket.actions("sync").at(-1)?.data).toEqual({ from_message_id: 4, changed_since: 1_000 });
    socket.answerSync([msg(7), msg(8)], true, { synced_at: 3_000 });
    socket.receive({ type: "message", booking_id: 1, message: msg(20) }); // a push moves no cursor
    socket.answerSync([msg(9)], false, { synced_at: 3_500 });
    expect(t.client.status.state).toBe("online");
    expect(t.client.timeline.map((m) => m.id)).toEqual([4, 5, 6, 7, 8, 9, 20]);
    socket.drop();
    await tick(1_000);
    t.socket.accept();
    expect(t.socket.actions("sync").at(-1)?.data).toEqual({ from_message_id: 4, changed_since: 3_000 });
  });

  it("an empty timeline asks for the latest page again; a server answering synced_at null is resumed with after_message_id", async () => {
    const t = setup();
    let socket = await online(t);
    socket.drop();
    await tick(1_000);
    socket = t.socket;
    socket.accept();
    expect(socket.actions("sync").at(-1)?.data).toEqual({ limit: 50 });
    socket.answerSync([msg(1), msg(2)], false, { synced_at: null });
    socket.drop();
    await tick(1_000);
    t.socket.accept();
    expect(t.socket.actions("sync").at(-1)?.data).toEqual({ after_message_id: 2 });
  });

  it("an edit pushed while a resume is in flight is not undone by the page read before it", async () => {
    const t = setup();
    let socket = await online(t, [msg(1, "bob", "first")]);
    socket.drop();
    await tick(1_000);
    socket = t.socket;
    socket.accept();
    socket.receive({ type: "message_updated", booking_id: 1, message: { ...msg(1, "bob", "second"), edited_at: 20 } });
    socket.answerSync([{ ...msg(1, "bob", "older"), edited_at: 10 }], false, { synced_at: 15 });
    expect(t.client.timeline[0]).toMatchObject({ body: "second", edited_at: 20 });
  });

  it("shows a message delivered twice once, and orders by id whatever the arrival order", async () => {
    const t = setup();
    const socket = await online(t, [msg(10)]);
    socket.echo(msg(12));
    socket.echo(msg(11));
    socket.echo(msg(12));
    socket.drop();
    await tick(1_000);
    t.socket.accept();
    t.socket.answerSync([msg(11), msg(12), msg(13)]);
    expect(t.client.timeline.map((m) => m.id)).toEqual([10, 11, 12, 13]);
  });

  it("a live message during a resume does not move the resume point past messages not yet paged in", async () => {
    const t = setup();
    let socket = await online(t, [msg(1)]);
    socket.drop();
    await tick(1_000);
    socket = t.socket;
    socket.accept();
    socket.echo(msg(9)); // live, while pages 2..8 are still to come
    socket.answerSync([msg(2), msg(3)], true);
    socket.drop();
    await tick(1_000);
    t.socket.accept();
    expect(t.socket.actions("sync").at(-1)?.data).toEqual({ after_message_id: 3 });
  });

  it("loads older pages on request, in order", async () => {
    const t = setup();
    t.client.start();
    await tick();
    const socket = t.socket;
    socket.accept();
    socket.answerSync([msg(5), msg(6)], true);
    expect(t.client.hasOlder).toBe(true);
    void t.client.loadOlder();
    expect(socket.actions("sync").at(-1)?.data).toEqual({ before_message_id: 5, limit: 50 });
    socket.answerSync([msg(3), msg(4)], false);
    expect(t.client.timeline.map((m) => m.id)).toEqual([3, 4, 5, 6]);
    expect(t.client.hasOlder).toBe(false);
  });
});

describe("outbox", () => {
  it("keeps what is sent offline and delivers it on reconnect with its original client_message_id, once", async () => {
    const t = setup();
    const socket = await online(t, [msg(1)]);
    socket.drop();
    const cmid = t.client.send("written offline").clientMessageId!;
    expect(t.store.load()).toMatchObject([{ client_message_id: cmid, body: "written offline" }]);
    expect(t.client.timeline.at(-1)).toMatchObject({ key: `c:${cmid}`, state: "sending", mine: true });
    await tick(1_000);
    const next = t.socket;
    next.accept();
    expect(next.actions("send_message")).toEqual([]); // not before the timeline is whole
    next.answerSync([]);
    const [sent] = next.actions("send_message");
    expect(sent?.data).toEqual({ body: "written offline", client_message_id: cmid });
    next.echo(msg(2, "alice", "written offline", cmid), sent?.request_id);
    expect(t.store.load()).toEqual([]);
    expect(t.client.timeline.map((m) => [m.key, m.state])).toEqual([
      ["m:1", "sent"],
      [`c:${cmid}`, "sent"],
    ]);
  });

  it("delivers one message at a time, in the order written", async () => {
    const t = setup();
    const socket = await online(t);
    const a = t.client.send("first").clientMessageId!;
    const b = t.client.send("second").clientMessageId!;
    expect(socket.actions("send_message").map((f) => f.data?.body)).toEqual(["first"]);
    socket.echo(msg(1, "alice", "first", a));
    expect(socket.actions("send_message").map((f) => f.data?.body)).toEqual(["first", "second"]);
    socket.echo(msg(2, "alice", "second", b));
    expect(t.client.timeline.map((m) => m.body)).toEqual(["first", "second"]);
  });

  it("survives a reload: a new client on the same storage shows and delivers the unsent message", async () => {
    const storage = new SharedStorage();
    const first = setup({}, localStorageOutbox("outbox:1:alice", { storage: storage.for("A"), locks: undefined }));
    const cmid = first.client.send("before the reload").clientMessageId!;
    first.client.close();

    const second = setup({}, localStorageOutbox("outbox:1:alice", { storage: storage.for("B"), locks: undefined }));
    expect(second.client.timeline).toMatchObject([{ key: `c:${cmid}`, state: "sending", body: "before the reload" }]);
    const socket = await online(second);
    expect(socket.actions("send_message")[0]?.data).toEqual({ body: "before the reload", client_message_id: cmid });
  });

  it("a message whose acknowledgement was lost is found in the resumed history and not sent again", async () => {
    const t = setup();
    const socket = await online(t, [msg(1)]);
    const cmid = t.client.send("hello").clientMessageId!;
    expect(socket.actions("send_message").length).toBe(1);
    socket.drop(); // stored by the server, but the echo never arrived
    await tick(1_000);
    t.socket.accept();
    t.socket.answerSync([msg(2, "alice", "hello", cmid)]);
    expect(t.socket.actions("send_message")).toEqual([]);
    expect(t.client.timeline.filter((m) => m.body === "hello")).toHaveLength(1);
  });

  it("an unanswered message is sent again with the same client_message_id", async () => {
    const t = setup();
    const socket = await online(t);
    const cmid = t.client.send("anyone?").clientMessageId!;
    await tick(10_000);
    expect(socket.actions("send_message").map((f) => f.data?.client_message_id)).toEqual([cmid, cmid]);
  });

  it("a refused message is marked failed and can be retried or discarded; a rate-limited one is retried alone", async () => {
    const t = setup();
    const socket = await online(t);
    const sent = t.client.send("x");
    const cmid = sent.clientMessageId!;
    const first = socket.actions("send_message")[0]!;
    socket.receive({ type: "error", error: { code: "VALIDATION_ERROR", message: "no" }, request_id: String(first.request_id) });
    await expect(sent).rejects.toMatchObject({ name: "ChatError", code: "VALIDATION_ERROR", message: "no" });
    expect(t.client.timeline.at(-1)).toMatchObject({ state: "failed", error: { code: "VALIDATION_ERROR" } });
    expect(t.store.load()[0]?.failed?.code).toBe("VALIDATION_ERROR");
    const retried = t.client.retry(cmid);
    const second = socket.actions("send_message")[1]!;
    expect(second.data?.client_message_id).toBe(cmid);
    socket.receive({ type: "error", error: { code: "RATE_LIMITED", message: "slow down" }, request_id: String(second.request_id) });
    expect(t.client.timeline.at(-1)?.state).toBe("sending");
    await tick(1_000);
    expect(socket.actions("send_message").length).toBe(3);
    t.client.discard(cmid);
    await expect(retried).rejects.toMatchObject({ code: "DISCARDED" });
    expect(t.client.timeline).toEqual([]);
    expect(t.store.load()).toEqual([]);
  });

  it("another member's message carrying the same request_id (as an old server sends) is not taken for the acknowledgement", async () => {
    const t = setup();
    const socket = await online(t, [msg(1)]);
    const a = t.client.send("mine").clientMessageId!;
    t.client.send("next");
    const [sent] = socket.actions("send_message");
    // bob numbers his requests the same way; an old server copies his request_id to every member.
    socket.echo(msg(2, "bob", "bob's", "bobs-cmid"), sent?.request_id);
    socket.echo(msg(3, "bob", "bob's again", a), sent?.request_id);
    expect(t.client.timeline.filter((m) => m.state === "sending").map((m) => m.body)).toEqual(["mine", "next"]);
    expect(socket.actions("send_message").map((f) => f.data?.body)).toEqual(["mine"]); // still waiting for its answer
    expect(t.store.load().map((e) => e.body)).toEqual(["mine", "next"]);
    socket.echo(msg(4, "alice", "mine", a)); // the server's copy for the sender: matched by client_message_id
    expect(socket.actions("send_message").map((f) => f.data?.body)).toEqual(["mine", "next"]);
    expect(t.store.load().map((e) => e.body)).toEqual(["next"]);
  });

  it("never sends another user's unsent message", async () => {
    const store = memoryOutbox();
    store.put({ client_message_id: "bobs", body: "from bob", created_at: 1, sender_id: "bob" });
    const t = setup({}, store);
    const socket = await online(t);
    expect(socket.actions("send_message")).toEqual([]);
  });
});

describe("keep-alive and proactive reconnects", () => {
  it("pings before API Gateway's idle limit, and replaces a connection whose ping goes unanswered", async () => {
    const t = setup();
    const socket = await online(t);
    await tick(269_000);
    expect(socket.actions("ping")).toEqual([]);
    await tick(1_000);
    expect(socket.actions("ping").length).toBe(1);
    await tick(270_000);
    expect(socket.actions("ping").length).toBe(2);
    socket.autoPong = false;
    await tick(270_000);
    expect(socket.actions("ping").length).toBe(3);
    await tick(10_000);
    expect(socket.closed?.byClient).toBe(true);
    await tick(1_000);
    expect(t.sockets.length).toBe(2);
  });

  it("replaces the connection before the token expires, without going offline (make before break)", async () => {
    const t = setup();
    t.setTokenTtl(600_000);
    const first = await online(t, [msg(1)]);
    const statuses = t.statuses.length;
    await tick(539_000);
    expect(t.sockets.length).toBe(1);
    await tick(1_000);
    expect(t.sockets.length).toBe(2);
    expect(t.tokenCalls.at(-1)).toBe(true);
    expect(first.closed).toBeUndefined(); // still serving while the new one opens
    const second = t.socket;
    second.accept();
    expect(second.actions("sync")[0]?.data).toEqual({ after_message_id: 1 });
    second.answerSync([msg(2)]);
    expect(first.closed).toMatchObject({ code: 1000, byClient: true });
    expect(t.statuses.slice(statuses).map((s) => s.state)).toEqual([]);
    expect(t.client.timeline.map((m) => m.id)).toEqual([1, 2]);
  });

  it("replaces the connection before API Gateway's two-hour limit", async () => {
    const t = setup();
    t.setTokenTtl(24 * 3_600_000);
    await online(t);
    await tick(6_900_000 - 1);
    expect(t.sockets.length).toBe(1);
    await tick(2);
    expect(t.sockets.length).toBe(2);
  });

  it("if the old connection drops while its replacement opens, the replacement takes over", async () => {
    const t = setup();
    t.setTokenTtl(600_000);
    const first = await online(t);
    await tick(540_000);
    const second = t.socket;
    first.drop();
    expect(t.client.status.state).toBe("connecting");
    second.accept();
    second.answerSync([]);
    expect(t.client.status.state).toBe("online");
    expect(t.sockets.length).toBe(2);
  });

  it("renews the token on the open connection with refresh once the server has answered session", async () => {
    const t = setup();
    t.setTokenTtl(600_000);
    const socket = await online(t);
    expect(socket.actions("session").length).toBe(1);
    socket.receive({ type: "session", user_id: "alice", expires_at: Date.now() + 600_000, closes_at: Date.now() + 7_200_000 });
    await tick(540_000);
    expect(socket.actions("refresh").length).toBe(1);
    expect(t.sockets.length).toBe(1);
  });
});

describe("token renewal", () => {
  /** Starts `t` against a server that answers `session` and `refresh` (or refuses every `refresh`). */
  async function onlineRenewing(t: ReturnType<typeof setup>, answer: true | "refuse" = true) {
    t.client.start();
    await tick();
    const socket = t.socket;
    socket.autoSession = answer;
    socket.accept();
    socket.answerSync([]);
    await tick();
    return socket;
  }

  it("renews a 20-s token at most once per half-life: 2 refreshes in 24 s, 10 s apart, not one a second", async () => {
    const fetchedAt: number[] = [];
    const t = setup({
      token: async () => {
        fetchedAt.push(Date.now());
        return jwt("alice", 20_000);
      },
    });
    const start = Date.now();
    const socket = await onlineRenewing(t);
    await tick(24_000);
    expect(socket.actions("refresh").length).toBe(2);
    expect(fetchedAt.map((at) => at - start)).toEqual([0, 10_000, 20_000]);
    expect(t.sockets.length).toBe(1);
    expect(t.client.status.state).toBe("online");
  });

  it("a failing token endpoint is retried with growing waits; when the token runs out the connection closes and reconnects", async () => {
    const fetchedAt: number[] = [];
    let fail = false;
    const t = setup({
      token: async () => {
        fetchedAt.push(Date.now());
        if (fail) throw new Error("token endpoint: HTTP 503");
        return jwt("alice", 20_000);
      },
    });
    const start = Date.now();
    const socket = await onlineRenewing(t);
    fail = true;
    await tick(19_999);
    const renewing = fetchedAt.slice(1).map((at) => at - start);
    expect(renewing).toEqual([10_000, 10_750, 12_250, 15_250]);
    expect(socket.closed).toBeUndefined();
    await tick(1);
    expect(socket.closed).toMatchObject({ code: 4003, byClient: true });
    expect(t.client.status.state).toBe("reconnecting");
    // Reconnecting now, with its own backoff: 8 fetches in 24 s in all.
    await tick(4_000);
    expect(fetchedAt.length).toBe(8);
  });

  it("a refused refresh is retried with growing waits, then the connection expires and reconnects with a fresh token", async () => {
    const t = setup();
    t.setTokenTtl(20_000);
    const first = await onlineRenewing(t, "refuse");
    await tick(19_000);
    expect(first.actions("refresh").length).toBe(4);
    expect(first.closed).toBeUndefined();
    await tick(1_000);
    expect(first.closed).toMatchObject({ code: 4003, byClient: true });
    await tick(1_000);
    expect(t.sockets.length).toBe(2);
    expect(t.tokenCalls.at(-1)).toBe(true);
  });

  it("a successful refresh starts the waits over", async () => {
    const t = setup();
    t.setTokenTtl(20_000);
    const socket = await onlineRenewing(t, "refuse");
    await tick(10_750);
    expect(socket.actions("refresh").length).toBe(2);
    socket.autoSession = true;
    await tick(1_500);
    expect(socket.actions("refresh").length).toBe(3);
    // The token renewed at 12.25 s lives 20 s (less the rounding of exp to seconds): renewed half of that later.
    await tick(9_000);
    expect(socket.actions("refresh").length).toBe(3);
    await tick(1_000);
    expect(socket.actions("refresh").length).toBe(4);
  });
});

describe("typing", () => {
  it("is throttled while typing, stops after a pause, and starts again at once after a send", async () => {
    const t = setup();
    const socket = await online(t);
    const typing = () => socket.actions("typing").map((f) => f.data?.is_typing);
    t.client.typing();
    await tick(1_000);
    t.client.typing();
    expect(typing()).toEqual([true]);
    await tick(2_000);
    t.client.typing();
    expect(typing()).toEqual([true, true]);
    t.client.send("done");
    t.client.typing();
    expect(typing()).toEqual([true, true, true]);
    await tick(5_000);
    expect(typing()).toEqual([true, true, true, false]);
  });

  it("another user's indicator lapses without news, and clears when their message arrives", async () => {
    const t = setup();
    const socket = await online(t);
    socket.receive({ type: "typing", booking_id: 1, user_id: "bob", is_typing: true });
    expect(t.client.typingUsers).toEqual(["bob"]);
    await tick(8_000);
    expect(t.client.typingUsers).toEqual([]);
    socket.receive({ type: "typing", booking_id: 1, user_id: "bob", is_typing: true });
    socket.echo(msg(1, "bob"));
    expect(t.client.typingUsers).toEqual([]);
  });
});

describe("events", () => {
  it("reactions, receipts, booking status and the draft frames update state and are emitted typed", async () => {
    const t = setup();
    const socket = await online(t, [msg(1, "bob"), msg(2, "alice")]);
    const seen: string[] = [];
    t.client.on("reaction", (f) => seen.push(`reaction ${f.emoji}`));
    t.client.on("booking_status", (f) => seen.push(`status ${f.status}`));
    t.client.on("unread", (f) => seen.push(`unread ${f.unread_count}`));
    t.client.on("presence", (f) => seen.push(`presence ${f.user_id} ${f.online}`));
    const reactions = [{ emoji: "👍", count: 1, user_ids: ["bob"] }];
    socket.receive({ type: "reaction", booking_id: 1, message_id: 2, user_id: "bob", emoji: "👍", added: true, reactions });
    socket.receive({ type: "receipt", booking_id: 1, user_id: "bob", last_read_message_id: 2 });
    socket.receive({ type: "booking_status", booking_id: 1, status: "active", previous_status: "confirmed", changed_by: "bob" });
    socket.receive({ type: "message_updated", booking_id: 1, message: { ...msg(1, "bob", "edited"), edited_at: 5 } });
    socket.receive({ type: "presence", booking_id: 1, user_id: "bob", online: true, last_seen_at: null });
    socket.receive({ type: "unread", booking_id: 1, unread_count: 3, last_read_message_id: 1 });
    expect(seen).toEqual(["reaction 👍", "status active", "presence bob true", "unread 3"]);
    expect(t.client.timeline.find((m) => m.id === 2)?.reactions).toEqual(reactions);
    expect(t.client.timeline.find((m) => m.id === 1)).toMatchObject({ body: "edited", edited_at: 5 });
    expect(t.client.receipts.get("bob")).toBe(2);
  });

  it("a history answer carries read positions and presence, so seen and online show at once after a reload", async () => {
    const t = setup();
    t.client.start();
    await tick();
    const socket = t.socket;
    socket.accept();
    const sync = socket.actions("sync").at(-1)!;
    socket.receive({
      type: "history",
      booking_id: 1,
      messages: [msg(1, "alice"), msg(2, "alice")],
      has_more: false,
      read_positions: [{ user_id: "bob", last_read_message_id: 2 }],
      presence: [{ user_id: "bob", online: false, last_seen_at: 1_700_000_000_000 }],
      request_id: String(sync.request_id),
    });
    expect(t.client.receipts.get("bob")).toBe(2);
    expect(t.client.presence.get("bob")).toEqual({ user_id: "bob", online: false, last_seen_at: 1_700_000_000_000 });
    socket.receive({ type: "presence", booking_id: 1, user_id: "bob", online: true, last_seen_at: 1_700_000_000_500 });
    expect(t.client.presence.get("bob")?.online).toBe(true);
    // A stale position in a later page never moves a receipt back.
    socket.receive({ type: "history", booking_id: 1, messages: [], has_more: false, read_positions: [{ user_id: "bob", last_read_message_id: 1 }] });
    expect(t.client.receipts.get("bob")).toBe(2);
  });

  it("edit() and remove() send their actions, and the message_updated answers replace the message in place", async () => {
    const t = setup();
    const socket = await online(t, [msg(1, "alice", "typo"), msg(2, "bob")]);
    const edited = t.client.edit(1, "fixed");
    const removed = t.client.remove(1);
    expect(socket.actions("edit_message").map((f) => f.data)).toEqual([{ message_id: 1, body: "fixed" }]);
    expect(socket.actions("delete_message").map((f) => f.data)).toEqual([{ message_id: 1 }]);
    const [edit] = socket.actions("edit_message");
    const [remove] = socket.actions("delete_message");
    socket.receive({ type: "message_updated", booking_id: 1, message: { ...msg(1, "alice", "fixed"), edited_at: 10 }, request_id: String(edit!.request_id) });
    expect(t.client.timeline.find((m) => m.id === 1)).toMatchObject({ body: "fixed", edited_at: 10, deleted: false });
    await expect(edited).resolves.toMatchObject({ id: 1, body: "fixed" });
    const tombstone = { ...msg(1, "alice", ""), edited_at: 10, deleted: true };
    socket.receive({ type: "message_updated", booking_id: 1, message: tombstone, request_id: String(remove!.request_id) });
    await expect(removed).resolves.toMatchObject({ id: 1, deleted: true });
    expect(t.client.timeline.map((m) => m.id)).toEqual([1, 2]);
    expect(t.client.timeline.find((m) => m.id === 1)).toMatchObject({ body: "", deleted: true });
  });

  it("a late copy of a message never undoes its edit or brings it back from deletion", async () => {
    const t = setup();
    const socket = await online(t, [msg(1, "alice", "first")]);
    socket.receive({ type: "message_updated", booking_id: 1, message: { ...msg(1, "alice", "second"), edited_at: 20 } });
    // A copy from before that edit (a history page read earlier, delivered later).
    socket.receive({ type: "history", booking_id: 1, messages: [{ ...msg(1, "alice", "older"), edited_at: 10 }], has_more: false });
    socket.receive({ type: "message", booking_id: 1, message: msg(1, "alice", "first") });
    expect(t.client.timeline.find((m) => m.id === 1)).toMatchObject({ body: "second", edited_at: 20 });
    socket.receive({ type: "message_updated", booking_id: 1, message: { ...msg(1, "alice", ""), edited_at: 20, deleted: true } });
    socket.receive({ type: "message_updated", booking_id: 1, message: { ...msg(1, "alice", "second"), edited_at: 20 } });
    expect(t.client.timeline.find((m) => m.id === 1)).toMatchObject({ body: "", deleted: true });
  });

  it("messages from a server without editing read as never edited and not deleted", async () => {
    const t = setup();
    const socket = await online(t);
    const { edited_at: _e, deleted: _d, ...old } = msg(3, "bob", "from an older server");
    const frame = { type: "message", booking_id: 1, message: old, timestamp: 1 };
    (socket as unknown as { handlers: { onMessage(t: string): void } }).handlers.onMessage(JSON.stringify(frame));
    expect(t.client.timeline.find((m) => m.id === 3)).toMatchObject({ body: "from an older server", edited_at: null, deleted: false });
  });

  it("marks read once connected and never backwards", async () => {
    const t = setup();
    void t.client.markRead(3);
    const socket = await online(t);
    void t.client.markRead(2);
    void t.client.markRead(5);
    expect(socket.actions("read").map((f) => f.data?.message_id)).toEqual([3, 5]);
  });

  it("close() stops for good: no more sockets, status stopped", async () => {
    const t = setup();
    const socket = await online(t);
    t.client.close();
    expect(socket.closed?.byClient).toBe(true);
    await tick(120_000);
    expect(t.sockets.length).toBe(1);
    expect(t.client.status).toMatchObject({ state: "stopped", reason: "closed" });
  });

  it("ignores text that is not a frame it knows", async () => {
    const t = setup();
    const socket = await online(t);
    const frames: string[] = [];
    t.client.on("frame", (f) => frames.push(f.type));
    socket.receive({ type: "pong" });
    (socket as unknown as { handlers: { onMessage(t: string): void } }).handlers.onMessage("not json");
    (socket as unknown as { handlers: { onMessage(t: string): void } }).handlers.onMessage('{"type":"mystery","timestamp":1}');
    expect(frames).toEqual(["pong"]);
  });
});

describe("other channels", () => {
  it("a booking-status connection opens without a sync and reports status changes", async () => {
    const t = setup({ channel: "booking" });
    const seen: string[] = [];
    t.client.on("booking_status", (f) => seen.push(f.status));
    t.client.start();
    await tick();
    expect(t.socket.url).toBe("wss://chat.example/prod?booking_id=1&type=booking");
    t.socket.accept();
    expect(t.socket.sent.map((f) => (f as { action?: string }).action)).toEqual(["session"]);
    expect(t.client.status.state).toBe("online");
    t.socket.receive({ type: "booking_status", booking_id: 1, status: "cancelled", previous_status: "confirmed", changed_by: "bob" });
    expect(seen).toEqual(["cancelled"]);
  });

  it("the per-user channel names no booking and reports unread counts and membership", async () => {
    const t = setup({ channel: "user", bookingId: undefined });
    const unread: number[] = [];
    t.client.on("unread", (f) => unread.push(f.unread_count));
    t.client.start();
    await tick();
    expect(t.socket.url).toBe("wss://chat.example/prod?type=user");
    t.socket.accept();
    const membership: boolean[] = [];
    t.client.on("membership", (f) => membership.push(f.member));
    t.socket.receive({ type: "unread", booking_id: 7, unread_count: 2, last_read_message_id: 40 });
    t.socket.receive({ type: "membership", booking_id: 8, user_id: "alice", member: true });
    expect(unread).toEqual([2]);
    expect(membership).toEqual([true]);
    expect(t.client.send("not here").clientMessageId).toBeDefined();
    expect(t.socket.actions("send_message")).toEqual([]);
  });
});

it("a client with no token provider is a type error, and one with its options has working defaults", () => {
  // @ts-expect-error token is required
  const bad = () => new ChatClient({ url: "wss://x" });
  void bad;
  expect(new ChatClient({ url: "wss://x", bookingId: 1, token: async () => "t" }).status.state).toBe("idle");
});

describe("actions return promises settled by their own answer", () => {
  it("react() resolves with the reaction answering its request_id, and another member's reaction does not settle it", async () => {
    const t = setup();
    const socket = await online(t, [msg(1)]);
    let settled = false;
    const reacted = t.client.react(1, "👍").finally(() => (settled = true));
    const [frame] = socket.actions("react");
    const reactions = [{ emoji: "👍", count: 1, user_ids: ["alice"] }];
    // bob's reaction, broadcast without a request_id: an event, not the answer.
    socket.receive({ type: "reaction", booking_id: 1, message_id: 1, user_id: "bob", emoji: "🎉", added: true, reactions: [] });
    await tick();
    expect(settled).toBe(false);
    socket.receive({ type: "reaction", booking_id: 1, message_id: 1, user_id: "alice", emoji: "👍", added: true, reactions, request_id: String(frame!.request_id) });
    await expect(reacted).resolves.toMatchObject({ added: true, reactions });
  });

  it("a refusal rejects with the server's code and message, and is not also an error event", async () => {
    const t = setup();
    const socket = await online(t, [msg(1, "alice")]);
    const errors: string[] = [];
    t.client.on("error", (f) => errors.push(f.error.code));
    const edited = t.client.edit(1, "too late");
    const [edit] = socket.actions("edit_message");
    socket.receive({ type: "error", error: { code: "VALIDATION_ERROR", message: "the edit window (15 minutes) has passed" }, request_id: String(edit!.request_id) });
    await expect(edited).rejects.toMatchObject({ name: "ChatError", code: "VALIDATION_ERROR", message: "the edit window (15 minutes) has passed" });
    expect(errors).toEqual([]);
    // An error frame answering nothing of this client's is still an event.
    socket.receive({ type: "error", error: { code: "INTERNAL_ERROR", message: "oops" } });
    expect(errors).toEqual(["INTERNAL_ERROR"]);
  });

  it("an action while not connected rejects at once with NOT_CONNECTED; one whose connection drops rejects with DISCONNECTED", async () => {
    const t = setup();
    await expect(t.client.remove(1)).rejects.toMatchObject({ code: "NOT_CONNECTED" });
    const socket = await online(t, [msg(1, "alice")]);
    const removed = t.client.remove(1);
    socket.drop();
    await expect(removed).rejects.toMatchObject({ code: "DISCONNECTED" });
  });

  it("an unanswered action rejects with TIMEOUT after ackTimeoutMs", async () => {
    const t = setup();
    await online(t, [msg(1)]);
    const reacted = t.client.react(1, "👍");
    const outcome = reacted.catch((e: { code: string }) => e.code);
    await tick(10_000);
    expect(await outcome).toBe("TIMEOUT");
  });

  it("send() resolves with the stored message when its copy comes back, even after a reconnect, and rejects an empty body at once", async () => {
    const t = setup();
    const socket = await online(t);
    await expect(t.client.send("   ")).rejects.toMatchObject({ code: "VALIDATION_ERROR" });
    const sent = t.client.send("hello");
    socket.drop();
    await tick(1_000);
    t.socket.accept();
    t.socket.answerSync([msg(7, "alice", "hello", sent.clientMessageId!)]);
    await expect(sent).resolves.toMatchObject({ id: 7, body: "hello" });
  });

  it("markRead() resolves when the server has the position, loadOlder() when the page is in", async () => {
    const t = setup();
    const socket = await online(t, [msg(5), msg(6)]);
    const read = t.client.markRead(6);
    const [frame] = socket.actions("read");
    socket.receive({ type: "receipt", booking_id: 1, user_id: "alice", last_read_message_id: 6, request_id: String(frame!.request_id) });
    await expect(read).resolves.toBeUndefined();
    await expect(t.client.markRead(4)).resolves.toBeUndefined(); // already there
    await expect(t.client.loadOlder()).rejects.toMatchObject({ code: "NOT_FOUND" }); // the first page had no more
  });
});

describe("the per-user channel's connection", () => {
  it("is renewed by a new connection before its token expires (a refresh must name a booking), never with session or refresh", async () => {
    const t = setup({ channel: "user", bookingId: undefined });
    t.setTokenTtl(600_000);
    t.client.start();
    await tick();
    t.socket.accept();
    expect(t.client.status.state).toBe("online");
    await tick(540_000); // 60 s before expiry
    expect(t.sockets.length).toBe(2);
    const [first, second] = t.sockets;
    second!.accept();
    expect(first!.closed?.byClient).toBe(true);
    expect(t.client.status.state).toBe("online");
    expect(t.sockets.flatMap((s) => s.sent.map((f) => f.action)).filter((a) => a === "session" || a === "refresh")).toEqual([]);
  });
});
