// Attachments in the client, against the scripted server: `requestUpload` and `attachmentUrl` settled by their
// answers, the `attachment` frame, messages carrying attachments (sent as ids, an empty body allowed); the
// signed-URL cache (one request for every caller, kept until shortly before it expires by the server's clock,
// asked again after, a refusal not kept); `Uploads`, the composer's state machine (checks before asking, the
// form, progress, processing, a verdict that overtakes the upload, refusals at each step, removal aborting; a
// verdict whose push was lost asked for with `get_attachment` after a reconnect and after a while without it);
// and the upload's body (the form's fields in order, the file last).

import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { ChatError } from "../../src/client/client.js";
import { Uploads, storeError, uploadBody, type Uploader } from "../../src/client/attachments.js";
import type { Attachment, UploadForm } from "../../src/client/frames.js";
import { msg, online, setup, tick, type ScriptedSocket } from "./scripted.js";

beforeEach(() => {
  vi.useFakeTimers({ now: new Date("2026-12-07T10:00:00Z") });
});
afterEach(() => {
  vi.useRealTimers();
});

const FORM: UploadForm = {
  url: "https://files.example/bucket",
  method: "POST",
  fields: { key: "uploads/1/att_1", "Content-Type": "image/jpeg", "x-amz-meta-a": "1", policy: "eyJ…", "x-amz-signature": "abc" },
  expires_at: Date.parse("2026-12-07T10:05:00Z"),
};
const pending = (id: string, name = "scratch.jpg", content_type = "image/jpeg"): Attachment => ({ id, name, content_type, size: 3, status: "pending" });
const ready = (id: string, name = "scratch.jpg"): Attachment => ({ ...pending(id, name), status: "ready", width: 1600, height: 1200, thumbnail: true });
const jpeg = (name = "scratch.jpg", bytes = "abc", type = "image/jpeg") => new File([bytes], name, { type });

/** Answers the last `upload_attachment` with the pending attachment `id` and FORM (or with an error). */
function answerUpload(socket: ScriptedSocket, id: string, error?: { code: string; message: string }): void {
  const request = socket.actions("upload_attachment").at(-1)!;
  const request_id = String(request.request_id);
  if (error) return socket.receive({ type: "error", error, request_id });
  const name = request.data!.name;
  socket.receive({ type: "upload", booking_id: 1, attachment: pending(id, name, request.data!.content_type), upload: FORM, request_id });
}

/** Answers the last `get_attachment` with `attachment` (or with an error), as the server does: the `attachment` frame. */
function answerStatus(socket: ScriptedSocket, attachment: Attachment | { code: string; message: string }): void {
  const request_id = String(socket.actions("get_attachment").at(-1)!.request_id);
  if ("code" in attachment) return socket.receive({ type: "error", error: attachment, request_id });
  socket.receive({ type: "attachment", booking_id: 1, attachment, request_id });
}

/** Answers the last `attachment_url` with `url`, valid `lifeMs` from the server's `now`. */
function answerUrl(socket: ScriptedSocket, url: string, lifeMs = 300_000, serverNow = Date.now()): void {
  const request = socket.actions("attachment_url").at(-1)!;
  const { attachment_id, variant } = request.data!;
  socket.receive({ type: "attachment_url", booking_id: 1, attachment_id, variant, url, expires_at: serverNow + lifeMs, timestamp: serverNow, request_id: String(request.request_id) });
}

describe("the client's attachment actions", () => {
  it("requestUpload sends what the file claims to be and resolves with the form; a refusal rejects with its code", async () => {
    const t = setup();
    const socket = await online(t);
    const asked = t.client.requestUpload({ name: "scratch.jpg", type: "image/jpeg", size: 481211 });
    const frame = socket.actions("upload_attachment").at(-1)!;
    expect(frame.data).toEqual({ name: "scratch.jpg", content_type: "image/jpeg", size: 481211 });
    expect(frame.request_id).toBeDefined();
    answerUpload(socket, "att_1");
    const answer = await asked;
    expect(answer.attachment).toEqual(pending("att_1"));
    expect(answer.upload).toEqual(FORM);

    const tooLarge = t.client.requestUpload({ name: "huge.pdf", type: "application/pdf", size: 50_000_000 });
    answerUpload(socket, "", { code: "PAYLOAD_TOO_LARGE", message: "at most 10485760 bytes" });
    await expect(tooLarge).rejects.toMatchObject({ code: "PAYLOAD_TOO_LARGE" });
    await expect(setup().client.requestUpload({ name: "a", type: "image/png", size: 1 })).rejects.toMatchObject({ code: "NOT_CONNECTED" });
  });

  it("the attachment frame is an event", async () => {
    const t = setup();
    const socket = await online(t);
    const seen: Attachment[] = [];
    t.client.on("attachment", (a) => seen.push(a));
    socket.receive({ type: "attachment", booking_id: 1, attachment: ready("att_1") });
    socket.receive({ type: "attachment", booking_id: 1, attachment: { ...pending("att_2"), status: "rejected", reason: "not an image" } });
    expect(seen.map((a) => [a.id, a.status, a.reason])).toEqual([
      ["att_1", "ready", undefined],
      ["att_2", "rejected", "not an image"],
    ]);
  });

  it("attachmentStatus asks get_attachment and resolves with the attachment its answer carries (also the attachment event); NOT_FOUND rejects", async () => {
    const t = setup();
    const socket = await online(t);
    const seen: Attachment[] = [];
    t.client.on("attachment", (a) => seen.push(a));
    const asked = t.client.attachmentStatus("att_1");
    const frame = socket.actions("get_attachment").at(-1)!;
    expect(frame.data).toEqual({ attachment_id: "att_1" });
    expect(frame.request_id).toBeDefined();
    answerStatus(socket, pending("att_1"));
    await expect(asked).resolves.toEqual(pending("att_1"));
    expect(seen).toEqual([pending("att_1")]);

    const unknown = t.client.attachmentStatus("att_other");
    answerStatus(socket, { code: "NOT_FOUND", message: "attachment not found" });
    await expect(unknown).rejects.toMatchObject({ code: "NOT_FOUND" });
    await expect(setup().client.attachmentStatus("att_1")).rejects.toMatchObject({ code: "NOT_CONNECTED" });
  });

  it("a message carries its attachments as ids (the body may then be empty), shown while sending and once stored", async () => {
    const t = setup();
    const socket = await online(t);
    const files = [ready("att_1"), ready("att_2", "receipt.pdf")];
    const sent = t.client.send("", files);
    const frame = socket.actions("send_message").at(-1)!;
    expect(frame.data).toEqual({ body: "", client_message_id: sent.clientMessageId, attachments: ["att_1", "att_2"] });
    expect(t.client.timeline.at(-1)).toMatchObject({ state: "sending", attachments: files });
    socket.echo({ ...msg(5, "alice", "", sent.clientMessageId!), attachments: files }, frame.request_id);
    expect((await sent).attachments).toEqual(files);
    expect(t.client.timeline.at(-1)).toMatchObject({ id: 5, state: "sent", attachments: files });
    // Without attachments, as before: no attachments field at all.
    t.client.send("text only").catch(() => {});
    expect(socket.actions("send_message").at(-1)!.data).not.toHaveProperty("attachments");
  });

  it("refuses a message with nothing in it, or more than 10 attachments, without sending it", async () => {
    const t = setup();
    const socket = await online(t);
    await expect(t.client.send("  ", [])).rejects.toMatchObject({ code: "VALIDATION_ERROR" });
    const eleven = Array.from({ length: 11 }, (_, i) => ready(`att_${i}`));
    await expect(t.client.send("hi", eleven)).rejects.toMatchObject({ code: "VALIDATION_ERROR" });
    expect(socket.actions("send_message")).toEqual([]);
  });
});

describe("attachmentUrl: signed URLs, kept in memory until shortly before they expire", () => {
  it("asks once for every caller, keeps the answer until a tenth of its life (at most 30 s) before it expires, then asks again", async () => {
    const t = setup();
    const socket = await online(t);
    const a = t.client.attachmentUrl("att_1");
    const b = t.client.attachmentUrl("att_1", "thumbnail");
    expect(socket.actions("attachment_url").map((f) => f.data)).toEqual([{ attachment_id: "att_1", variant: "thumbnail" }]);
    answerUrl(socket, "https://files.example/t1?sig=1");
    expect(await a).toBe("https://files.example/t1?sig=1");
    expect(await b).toBe("https://files.example/t1?sig=1");
    // Another variant is another URL.
    const original = t.client.attachmentUrl("att_1", "original");
    expect(socket.actions("attachment_url").at(-1)!.data).toEqual({ attachment_id: "att_1", variant: "original" });
    answerUrl(socket, "https://files.example/o1?sig=1");
    expect(await original).toBe("https://files.example/o1?sig=1");

    await tick(269_000);
    expect(await t.client.attachmentUrl("att_1")).toBe("https://files.example/t1?sig=1");
    expect(socket.actions("attachment_url").length).toBe(2);
    await tick(2_000); // 271 s: within the last 30 s of its 300
    const again = t.client.attachmentUrl("att_1");
    expect(socket.actions("attachment_url").length).toBe(3);
    answerUrl(socket, "https://files.example/t1?sig=2");
    expect(await again).toBe("https://files.example/t1?sig=2");
  });

  it("counts a URL's life by the server's clock (a device an hour late keeps it minutes, not an hour)", async () => {
    const t = setup();
    const socket = await online(t);
    const url = t.client.attachmentUrl("att_1");
    answerUrl(socket, "https://files.example/t?sig=1", 60_000, Date.now() + 3_600_000);
    await url;
    await tick(53_000);
    await t.client.attachmentUrl("att_1");
    expect(socket.actions("attachment_url").length).toBe(1);
    await tick(2_000); // 55 s: within the last tenth (6 s) of its 60
    void t.client.attachmentUrl("att_1");
    expect(socket.actions("attachment_url").length).toBe(2);
  });

  it("does not keep a refusal: the next caller asks again", async () => {
    const t = setup();
    const socket = await online(t);
    const url = t.client.attachmentUrl("att_9", "original");
    socket.receive({ type: "error", error: { code: "NOT_FOUND", message: "no such attachment" }, request_id: String(socket.actions("attachment_url").at(-1)!.request_id) });
    await expect(url).rejects.toMatchObject({ code: "NOT_FOUND" });
    void t.client.attachmentUrl("att_9", "original").catch(() => {});
    expect(socket.actions("attachment_url").length).toBe(2);
  });
});

/** An uploader the test drives: each call waits for `finish()` or `fail()`. */
function scriptedUploader() {
  const calls: { form: UploadForm; file: Blob; name: string; progress: (f: number) => void; signal: AbortSignal; finish: () => void; fail: (e: ChatError) => void }[] = [];
  const uploader: Uploader = (form, file, name, progress, signal) =>
    new Promise((finish, fail) => {
      calls.push({ form, file, name, progress, signal, finish, fail });
      signal.addEventListener("abort", () => fail(new ChatError("ABORTED", "aborted")));
    });
  return { uploader, calls };
}

describe("Uploads: a composer's files, from picked to ready", () => {
  async function composer(options: Partial<ConstructorParameters<typeof Uploads>[1]> = {}) {
    const t = setup();
    const socket = await online(t);
    const { uploader, calls } = scriptedUploader();
    const uploads = new Uploads(t.client, { uploader, ...options });
    const states: string[] = [];
    uploads.on("change", (items) => states.push(items.map((u) => `${u.name}:${u.state}`).join(",")));
    return { t, socket, uploads, calls, states };
  }

  it("uploading (with progress), processing, then ready when the server says so; Send's conditions follow; take() hands the ready ones over", async () => {
    const { socket, uploads, calls, states } = await composer();
    const file = jpeg();
    uploads.add([file]);
    expect(uploads.items[0]).toMatchObject({ key: "u1", name: "scratch.jpg", size: 3, type: "image/jpeg", state: "uploading", progress: 0 });
    expect(uploads.busy).toBe(true);
    answerUpload(socket, "att_1");
    await tick();
    expect(calls.length).toBe(1);
    expect(calls[0]!.form).toEqual(FORM);
    expect(calls[0]!.file).toBe(file);
    expect(calls[0]!.name).toBe("scratch.jpg");
    calls[0]!.progress(0.5);
    expect(uploads.items[0]!.progress).toBe(0.5);
    calls[0]!.finish();
    await tick();
    expect(uploads.items[0]).toMatchObject({ state: "processing", progress: 1 });
    expect(uploads.busy).toBe(true);
    expect(uploads.ready).toEqual([]);
    socket.receive({ type: "attachment", booking_id: 1, attachment: ready("att_1") });
    expect(uploads.items[0]).toMatchObject({ state: "ready", attachment: ready("att_1") });
    expect(uploads.busy).toBe(false);
    expect(uploads.ready).toEqual([ready("att_1")]);
    expect(states).toEqual(["scratch.jpg:uploading", "scratch.jpg:uploading", "scratch.jpg:uploading", "scratch.jpg:processing", "scratch.jpg:ready"]);
    expect(uploads.take()).toEqual([ready("att_1")]);
    expect(uploads.items).toEqual([]);
  });

  it("refuses a file too large, of another type, or one too many, before asking the server", async () => {
    const { socket, uploads } = await composer({ maxBytes: 2, perMessage: 1 });
    uploads.add([jpeg("big.jpg", "abc"), jpeg("notes.txt", "a", "text/plain"), jpeg("a.png", "a", "image/png"), jpeg("b.webp", "b", "image/webp")]);
    expect(uploads.items.map((u) => [u.name, u.state, u.error?.code])).toEqual([
      ["big.jpg", "failed", "too_large"],
      ["notes.txt", "failed", "type"],
      ["a.png", "uploading", undefined],
      ["b.webp", "failed", "too_many"],
    ]);
    expect(socket.actions("upload_attachment").map((f) => f.data!.name)).toEqual(["a.png"]);
    // A failed file is not sent and does not hold a message back: only the one uploading does.
    uploads.remove("u3");
    expect(uploads.busy).toBe(false);
    expect(uploads.take()).toEqual([]);
    expect(uploads.items.length).toBe(3);
  });

  it("the server's refusals: PAYLOAD_TOO_LARGE is too large, VALIDATION_ERROR rejected with its message, anything else failed", async () => {
    const { socket, uploads } = await composer();
    uploads.add([jpeg("a.jpg")]);
    answerUpload(socket, "", { code: "PAYLOAD_TOO_LARGE", message: "too large" });
    uploads.add([jpeg("b.jpg")]);
    answerUpload(socket, "", { code: "VALIDATION_ERROR", message: "attachments are not enabled" });
    uploads.add([jpeg("c.jpg")]);
    answerUpload(socket, "", { code: "BACKEND_UNAVAILABLE", message: "try later" });
    await tick();
    expect(uploads.items.map((u) => [u.name, u.state, u.error])).toEqual([
      ["a.jpg", "failed", { code: "too_large" }],
      ["b.jpg", "failed", { code: "rejected", detail: "attachments are not enabled" }],
      ["c.jpg", "failed", { code: "failed", detail: "try later" }],
    ]);
  });

  it("the store's refusals: EntityTooLarge is too large, anything else (an expired form) failed with the store's message", async () => {
    const { socket, uploads, calls } = await composer();
    uploads.add([jpeg("a.jpg")]);
    answerUpload(socket, "att_1");
    uploads.add([jpeg("b.jpg")]);
    answerUpload(socket, "att_2");
    await tick();
    calls[0]!.fail(storeError(400, "<Error><Code>EntityTooLarge</Code><Message>Your proposed upload exceeds the maximum allowed size</Message></Error>"));
    calls[1]!.fail(storeError(403, "<?xml version='1.0'?><Error><Code>AccessDenied</Code><Message>Invalid according to Policy: Policy expired.</Message></Error>"));
    await tick();
    expect(uploads.items.map((u) => [u.name, u.state, u.error])).toEqual([
      ["a.jpg", "failed", { code: "too_large" }],
      ["b.jpg", "failed", { code: "failed", detail: "Invalid according to Policy: Policy expired." }],
    ]);
  });

  it("a rejected file shows the server's reason and is not sent", async () => {
    const { socket, uploads, calls } = await composer();
    uploads.add([jpeg("fake.jpg")]);
    answerUpload(socket, "att_1");
    await tick();
    calls[0]!.finish();
    await tick();
    socket.receive({ type: "attachment", booking_id: 1, attachment: { ...pending("att_1", "fake.jpg"), status: "rejected", reason: "the file is not an image" } });
    expect(uploads.items[0]).toMatchObject({ state: "failed", error: { code: "rejected", detail: "the file is not an image" } });
    expect(uploads.ready).toEqual([]);
    expect(uploads.busy).toBe(false);
  });

  it("a verdict that arrives before the upload's own answer is kept for it (the file never sticks at processing)", async () => {
    const { socket, uploads, calls, states } = await composer();
    uploads.add([jpeg()]);
    answerUpload(socket, "att_1");
    await tick();
    socket.receive({ type: "attachment", booking_id: 1, attachment: ready("att_1") });
    expect(uploads.items[0]!.state).toBe("uploading");
    calls[0]!.finish();
    await tick();
    expect(uploads.items[0]!.state).toBe("ready");
    expect(states.at(-2)).toBe("scratch.jpg:processing");
  });

  /** A file uploaded and now processing (`att_1`), its verdict not pushed. */
  async function processing(c: Awaited<ReturnType<typeof composer>>, name = "scratch.jpg") {
    c.uploads.add([jpeg(name)]);
    answerUpload(c.socket, "att_1");
    await tick();
    c.calls[0]!.finish();
    await tick();
    expect(c.uploads.items[0]!.state).toBe("processing");
  }

  it("a verdict pushed while the connection was down is asked for once it is back: still pending waits on, then ready", async () => {
    const c = await composer();
    await processing(c);
    c.socket.drop();
    await tick(1_000);
    const socket = c.t.socket;
    expect(socket).not.toBe(c.socket);
    socket.accept();
    expect(socket.actions("get_attachment"), "asked only once the timeline is whole again").toEqual([]);
    socket.answerSync([]);
    await tick();
    expect(socket.actions("get_attachment").map((f) => f.data)).toEqual([{ attachment_id: "att_1" }]);
    answerStatus(socket, pending("att_1"));
    await tick();
    expect(c.uploads.items[0]!.state).toBe("processing");
    // The processor is slow, and its push is lost again: the next question, a while later, gets the verdict.
    socket.drop();
    await tick(1_000);
    c.t.socket.accept();
    c.t.socket.answerSync([]);
    await tick();
    answerStatus(c.t.socket, ready("att_1"));
    await tick();
    expect(c.uploads.items[0]).toMatchObject({ state: "ready", attachment: ready("att_1") });
    expect(c.uploads.busy).toBe(false);
    // Settled: nothing more is asked.
    await tick(600_000);
    expect(c.t.socket.actions("get_attachment").length).toBe(1);
  });

  it("without a verdict, asks after 15 s, then 30 s, 60 s while still pending; a rejected answer fails with its reason", async () => {
    const c = await composer();
    await processing(c, "fake.jpg");
    const asked = () => c.socket.actions("get_attachment").length;
    await tick(14_999);
    expect(asked()).toBe(0);
    await tick(1);
    expect(asked()).toBe(1);
    answerStatus(c.socket, pending("att_1", "fake.jpg"));
    await tick(29_999);
    expect(asked()).toBe(1);
    await tick(1);
    expect(asked()).toBe(2);
    answerStatus(c.socket, pending("att_1", "fake.jpg"));
    await tick(60_000);
    expect(asked()).toBe(3);
    answerStatus(c.socket, { ...pending("att_1", "fake.jpg"), status: "rejected", reason: "the file is not an image" });
    await tick();
    expect(c.uploads.items[0]).toMatchObject({ state: "failed", error: { code: "rejected", detail: "the file is not an image" } });
    await tick(600_000);
    expect(asked()).toBe(3);
  });

  it("a verdict pushed in time is not asked for; an upload the server no longer has (NOT_FOUND) fails; removal stops the questions", async () => {
    const c = await composer();
    await processing(c);
    c.socket.receive({ type: "attachment", booking_id: 1, attachment: ready("att_1") });
    await tick(600_000);
    expect(c.socket.actions("get_attachment")).toEqual([]);

    const d = await composer();
    await processing(d);
    await tick(15_000);
    answerStatus(d.socket, { code: "NOT_FOUND", message: "attachment not found" });
    await tick();
    expect(d.uploads.items[0]).toMatchObject({ state: "failed", error: { code: "failed", detail: "attachment not found" } });

    const e = await composer();
    await processing(e);
    e.uploads.remove("u1");
    await tick(600_000);
    expect(e.socket.actions("get_attachment")).toEqual([]);
  });

  it("remove() aborts an upload on its way and forgets it; verdicts on files not here (another tab's) change nothing", async () => {
    const { socket, uploads, calls } = await composer();
    uploads.add([jpeg("a.jpg"), jpeg("b.jpg")]);
    const [a, b] = socket.actions("upload_attachment");
    socket.receive({ type: "upload", booking_id: 1, attachment: pending("att_a", "a.jpg"), upload: FORM, request_id: String(a!.request_id) });
    await tick();
    uploads.remove("u1");
    expect(calls[0]!.signal.aborted).toBe(true);
    await tick();
    expect(uploads.items.map((u) => u.name)).toEqual(["b.jpg"]);
    socket.receive({ type: "attachment", booking_id: 1, attachment: ready("att_a") });
    socket.receive({ type: "attachment", booking_id: 1, attachment: ready("att_elsewhere") });
    // b is removed before the server even answered: its answer starts no upload.
    uploads.remove("u2");
    socket.receive({ type: "upload", booking_id: 1, attachment: pending("att_b", "b.jpg"), upload: FORM, request_id: String(b!.request_id) });
    await tick();
    expect(calls.length).toBe(1);
    expect(uploads.items).toEqual([]);
    uploads.dispose();
  });
});

describe("the upload's body (S3's browser-based POST)", () => {
  it("has every field of the form, in its order, then the file last as `file`", async () => {
    const body = uploadBody(FORM, jpeg("scratch.jpg", "JPEGBYTES"), "scratch.jpg");
    expect([...body.keys()]).toEqual(["key", "Content-Type", "x-amz-meta-a", "policy", "x-amz-signature", "file"]);
    // As a browser sends it: multipart/form-data, the parts in that order.
    const request = new Request("https://files.example/", { method: "POST", body });
    expect(request.headers.get("content-type")).toMatch(/^multipart\/form-data; boundary=/);
    const text = await request.text();
    const names = [...text.matchAll(/Content-Disposition: form-data; name="([^"]+)"/g)].map((m) => m[1]);
    expect(names).toEqual(["key", "Content-Type", "x-amz-meta-a", "policy", "x-amz-signature", "file"]);
    expect(text).toMatch(/name="file"; filename="scratch.jpg"\r\nContent-Type: image\/jpeg\r\n\r\nJPEGBYTES\r\n--[^\r\n]+--\r\n$/);
    expect(text).toContain('name="Content-Type"\r\n\r\nimage/jpeg\r\n');
  });

  it("storeError reads S3's XML error, else says the status", () => {
    const e = storeError(403, "<Error><Code>AccessDenied</Code><Message>Request has expired</Message></Error>");
    expect([e.code, e.message]).toEqual(["AccessDenied", "Request has expired"]);
    const plain = storeError(502, "Bad Gateway");
    expect([plain.code, plain.message]).toEqual(["HTTP_502", "HTTP 502"]);
  });
});
