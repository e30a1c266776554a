// The TypeScript frames against the wire crate's fixture (`wire/fixtures/frames.json`, written from the Rust
// types): every frame there must pass the strict check, every kind the client knows as current must appear
// there, and the checks must refuse what the Rust side would never send.

import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import {
  CLIENT_SHAPES,
  DRAFT_CLIENT_SHAPES,
  DRAFT_SERVER_SHAPES,
  SERVER_SHAPES,
  checkClientFrame,
  checkServerFrame,
  parseServerFrame,
} from "../../src/frames.js";

const FIXTURE = fileURLToPath(new URL("../../../wire/fixtures/frames.json", import.meta.url));
const fixture = JSON.parse(readFileSync(FIXTURE, "utf8")) as { server: Record<string, unknown>[]; client: Record<string, unknown>[] };

const required = (shape: Record<string, string>) => Object.keys(shape).filter((k) => !shape[k]!.startsWith("?"));

describe("wire/fixtures/frames.json", () => {
  it("has the two lists, server and client", () => {
    expect(Object.keys(fixture).sort()).toEqual(["client", "server"]);
    expect(Array.isArray(fixture.server) && Array.isArray(fixture.client)).toBe(true);
  });

  it.each(fixture.server.map((f, i) => [i, f.type, f] as const))("server frame %i (%s) matches its TypeScript shape exactly", (_i, type, frame) => {
    const problem = checkServerFrame(frame, { strict: true });
    const hint =
      typeof type === "string" && type in DRAFT_SERVER_SHAPES
        ? ` (the wire crate now sends the draft kind ${type}: move it from DRAFT_SERVER_SHAPES to SERVER_SHAPES)`
        : "";
    expect(problem === undefined ? undefined : problem + hint).toBeUndefined();
  });

  it.each(fixture.client.map((f, i) => [i, f.action, f] as const))("client frame %i (%s) matches its TypeScript shape exactly", (_i, action, frame) => {
    const problem = checkClientFrame(frame, { strict: true });
    const hint =
      typeof action === "string" && action in DRAFT_CLIENT_SHAPES
        ? ` (the wire crate now accepts the draft action ${action}: move it to CLIENT_SHAPES)`
        : "";
    expect(problem === undefined ? undefined : problem + hint).toBeUndefined();
  });

  it("covers every server frame kind and client action the TypeScript side knows as current", () => {
    expect(new Set(fixture.server.map((f) => f.type))).toEqual(new Set(Object.keys(SERVER_SHAPES)));
    expect(new Set(fixture.client.map((f) => f.action))).toEqual(new Set(Object.keys(CLIENT_SHAPES)));
  });

  it("each fixture frame fails the check without any one of its required fields", () => {
    for (const frame of fixture.server) {
      const shape = SERVER_SHAPES[frame.type as keyof typeof SERVER_SHAPES];
      for (const key of [...required(shape), "timestamp", "type"]) {
        const { [key]: _dropped, ...rest } = frame;
        expect(checkServerFrame(rest), `${String(frame.type)} without ${key}`).toBeDefined();
      }
    }
    for (const frame of fixture.client) {
      const shape = CLIENT_SHAPES[frame.action as keyof typeof CLIENT_SHAPES];
      const data = (frame.data ?? {}) as Record<string, unknown>;
      for (const key of required(shape)) {
        const { [key]: _dropped, ...rest } = data;
        expect(checkClientFrame({ ...frame, data: rest }), `${String(frame.action)} without ${key}`).toBeDefined();
      }
    }
  });
});

describe("frame checks", () => {
  it("refuse unknown types, wrong field types and (strictly) unknown fields and error codes", () => {
    const pong = { type: "pong", timestamp: 1 };
    expect(checkServerFrame(pong, { strict: true })).toBeUndefined();
    expect(checkServerFrame({ ...pong, type: "mystery" })).toMatch(/unknown type/);
    expect(checkServerFrame({ ...pong, timestamp: "1" })).toMatch(/timestamp: expected int/);
    expect(checkServerFrame({ ...pong, extra: 1 })).toBeUndefined();
    expect(checkServerFrame({ ...pong, extra: 1 }, { strict: true })).toMatch(/extra: unknown field/);
    const error = { type: "error", timestamp: 1, error: { code: "SOMETHING_NEW", message: "m" } };
    expect(checkServerFrame(error)).toBeUndefined();
    expect(checkServerFrame(error, { strict: true })).toMatch(/unknown error code/);
    const message = fixture.server[0]!;
    expect(checkServerFrame({ ...message, message: { ...(message.message as object), client_message_id: 5 } })).toMatch(
      /client_message_id: expected str/,
    );
    expect(checkClientFrame({ action: "ping", request_id: "r".repeat(129) })).toMatch(/request_id/);
    expect(checkClientFrame({ action: "ping", request_id: 1.5 })).toMatch(/request_id/);
  });

  it("the per-user channel's frames are the wire crate's (strict)", () => {
    const unread = { type: "unread", booking_id: 1, unread_count: 2, last_read_message_id: null, timestamp: 3 };
    expect(checkServerFrame(unread, { strict: true })).toBeUndefined();
    expect(checkServerFrame({ ...unread, unread_count: "2" }, { strict: true })).toMatch(/unread_count/);
    const named = { type: "pong", booking_id: 7, timestamp: 3 };
    expect(checkServerFrame(named, { strict: true })).toBeUndefined();
    const presence = { type: "presence", booking_id: 1, user_id: "a", online: true, last_seen_at: null, timestamp: 3 };
    expect(checkServerFrame(presence, { strict: true })).toBeUndefined();
    const session = { type: "session", user_id: "a", expires_at: 1, closes_at: 2, timestamp: 3 };
    expect(checkServerFrame(session, { strict: true })).toBeUndefined();
    expect(checkClientFrame({ action: "refresh", data: { token: "t" } }, { strict: true })).toBeUndefined();
    const membership = { type: "membership", booking_id: 2, user_id: "a", member: false, timestamp: 3 };
    expect(checkServerFrame(membership, { strict: true })).toBeUndefined();
    expect(checkServerFrame({ ...membership, member: "no" }, { strict: true })).toMatch(/member: expected bool/);
  });

  it("a history answer's synced_at is an integer, or null or absent from a server that cannot resume", () => {
    const history = { type: "history", booking_id: 1, messages: [], has_more: false, timestamp: 3 };
    for (const synced_at of [5, null, undefined]) expect(checkServerFrame({ ...history, synced_at }, { strict: true })).toBeUndefined();
    expect(checkServerFrame({ ...history, synced_at: "5" })).toMatch(/synced_at: expected int/);
    expect(checkClientFrame({ action: "sync", data: { from_message_id: 1, changed_since: 5 } }, { strict: true })).toBeUndefined();
  });

  it("trust and safety: chat_state and report_received are checked with their nested fields", () => {
    const state = { writable: false, closed: { reason: "ended", at: 5, note: null }, read_only_at: 5, blocks: [{ user_id: "a", blocked_user_id: "b", at: 4 }] };
    const frame = { type: "chat_state", booking_id: 1, timestamp: 6, ...state };
    expect(checkServerFrame(frame, { strict: true })).toBeUndefined();
    expect(checkServerFrame({ ...frame, blocks: [{ ...state.blocks[0], since: 1 }] }, { strict: true })).toMatch(/blocks\[0\].since: unknown field/);
    expect(checkServerFrame({ ...frame, closed: null, writable: true })).toBeUndefined();
    expect(checkServerFrame({ ...frame, closed: { reason: "ended", at: 5 } })).toMatch(/chat_state.closed.note: missing/);
    expect(checkServerFrame({ ...frame, blocks: [{ user_id: "a", at: 4 }] })).toMatch(/blocks\[0\].blocked_user_id: missing/);
    expect(checkServerFrame({ ...frame, read_only_at: "soon" })).toMatch(/read_only_at: expected int/);
    expect(parseServerFrame(JSON.stringify(frame))).toEqual(frame);
    const received = { type: "report_received", booking_id: 1, report_id: "r-1", request_id: "a3", timestamp: 6 };
    expect(checkServerFrame(received, { strict: true })).toBeUndefined();
    expect(checkServerFrame({ ...received, report_id: 1 })).toMatch(/report_id: expected str/);
    // A history answer may carry the chat state; an error may say BLOCKED or CHAT_CLOSED; a tombstone its
    // moderation (not in the wire crate yet: the fixture has none).
    const history = { type: "history", booking_id: 1, messages: [], has_more: false, timestamp: 3 };
    expect(checkServerFrame({ ...history, chat_state: state }, { strict: true })).toBeUndefined();
    expect(checkServerFrame({ ...history, chat_state: { ...state, blocks: undefined } })).toMatch(/chat_state.blocks: missing/);
    for (const code of ["BLOCKED", "CHAT_CLOSED"]) {
      expect(checkServerFrame({ type: "error", timestamp: 1, error: { code, message: "m" } }, { strict: true })).toBeUndefined();
    }
    const message = fixture.server.find((f) => f.type === "message")!;
    const tombstone = { ...(message.message as object), body: "", deleted: true, moderation: { reason: "scam", at: 9 } };
    expect(checkServerFrame({ ...message, message: tombstone, masked: ["phone", "link"] }, { strict: true })).toBeUndefined();
    expect(checkServerFrame({ ...message, message: { ...tombstone, moderation: { reason: "scam" } } })).toMatch(/moderation.at: missing/);
    // The actions: block and unblock carry nothing, report a reason and optionally a message and details.
    expect(checkClientFrame({ action: "block", request_id: "a1" }, { strict: true })).toBeUndefined();
    expect(checkClientFrame({ action: "unblock" }, { strict: true })).toBeUndefined();
    expect(checkClientFrame({ action: "report", data: { reason: "spam", message_id: 4, details: "x" } }, { strict: true })).toBeUndefined();
    expect(checkClientFrame({ action: "report", data: { message_id: 4 } })).toMatch(/report.data.reason: missing/);
  });

  it("attachments (issue 24): the frames and their nested fields, a message's attachments, the actions", () => {
    const attachment = { id: "att_1", name: "scratch.jpg", content_type: "image/jpeg", size: 481211, status: "ready", width: 1600, height: 1200, thumbnail: true };
    const pdf = { id: "att_2", name: "receipt.pdf", content_type: "application/pdf", size: 9000, status: "ready", width: null, height: null, thumbnail: false };
    const upload = {
      type: "upload",
      booking_id: 1,
      request_id: "a4",
      timestamp: 1,
      attachment: { id: "att_1", name: "scratch.jpg", content_type: "image/jpeg", size: 481211, status: "pending" },
      upload: { url: "https://b.s3.amazonaws.com/", method: "POST", fields: { key: "uploads/1/att_1", "Content-Type": "image/jpeg", policy: "p" }, expires_at: 2 },
    };
    expect(checkServerFrame(upload, { strict: true })).toBeUndefined();
    expect(checkServerFrame({ ...upload, booking_id: undefined })).toMatch(/upload.booking_id: missing/);
    expect(checkServerFrame({ ...upload, upload: { ...upload.upload, fields: { key: 5 } } })).toMatch(/upload.upload.fields.key: expected str/);
    expect(checkServerFrame({ ...upload, upload: { ...upload.upload, fields: [] } })).toMatch(/fields: expected fields/);
    expect(checkServerFrame({ ...upload, attachment: { ...upload.attachment, size: "1" } })).toMatch(/attachment.size: expected int/);
    const rejected = { type: "attachment", booking_id: 1, timestamp: 1, attachment: { ...upload.attachment, status: "rejected", reason: "not an image" } };
    expect(checkServerFrame(rejected, { strict: true })).toBeUndefined();
    expect(checkServerFrame({ ...rejected, attachment: { ...attachment, reason: 3 } })).toMatch(/reason: expected str/);
    const url = { type: "attachment_url", booking_id: 1, request_id: "a5", timestamp: 1, attachment_id: "att_1", variant: "thumbnail", url: "https://x/", expires_at: 3 };
    expect(checkServerFrame(url, { strict: true })).toBeUndefined();
    expect(checkServerFrame({ ...url, expires_at: undefined })).toMatch(/expires_at: missing/);
    // The form's fields keep their order through parsing.
    expect(Object.keys((parseServerFrame(JSON.stringify(upload)) as unknown as typeof upload).upload.fields)).toEqual(["key", "Content-Type", "policy"]);
    // A message may carry them (strictly too: an optional field of a current kind).
    const message = fixture.server.find((f) => f.type === "message")!;
    expect(checkServerFrame({ ...message, message: { ...(message.message as object), attachments: [attachment, pdf] } }, { strict: true })).toBeUndefined();
    expect(checkServerFrame({ ...message, message: { ...(message.message as object), attachments: [{ ...attachment, url: "x" }] } }, { strict: true })).toMatch(
      /attachments\[0\].url: unknown field/,
    );
    expect(checkClientFrame({ action: "send_message", data: { body: "", client_message_id: "c", attachments: ["att_1"] } }, { strict: true })).toBeUndefined();
    expect(checkClientFrame({ action: "upload_attachment", data: { name: "a.jpg", content_type: "image/jpeg", size: 3 } }, { strict: true })).toBeUndefined();
    expect(checkClientFrame({ action: "upload_attachment", data: { name: "a.jpg", content_type: "image/jpeg" } })).toMatch(/size: missing/);
    expect(checkClientFrame({ action: "attachment_url", data: { attachment_id: "att_1", variant: "original" } }, { strict: true })).toBeUndefined();
  });

  it("parseServerFrame returns frames and nothing else", () => {
    expect(parseServerFrame('{"type":"pong","timestamp":1}')).toEqual({ type: "pong", timestamp: 1 });
    expect(parseServerFrame("not json")).toBeUndefined();
    expect(parseServerFrame("[]")).toBeUndefined();
    expect(parseServerFrame('{"type":"message","timestamp":1,"booking_id":1}')).toBeUndefined();
  });
});
