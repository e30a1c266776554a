// Attachments in `<booking-chat>`, in real Chromium (issue 24, docs/attachments.md): picking files with the
// attach button's input, pasting an image into the text box, dropping a file on the chat (its drop state); the
// upload itself (a multipart POST to the file store: the form's fields in order, the file last as `file`), its
// progress bar, "Processing…" until the server's verdict, the preview, Send carrying the attachment; refusals
// (too large before anything is sent, the server's PAYLOAD_TOO_LARGE, a type, the store's AccessDenied, a
// rejected file's reason); a verdict whose push was lost to a dropped connection, asked for (get_attachment)
// once the widget is back; a message's thumbnail (its size reserved, alt its name) opening the original in a
// modal viewer that Escape closes, the focus going back; a PDF as its name and size, opening in a new tab;
// axe-core on each state; screenshots in web/test-results/screenshots/.
//
// Scripted, self-contained: no chat-dev. A small Node server serves the page, `dist/` and tokens; the chat
// server is played by the test on the page's WebSocket (Playwright's `routeWebSocket`: history, session, pong,
// messages echoed, and the attachment frames of the protocol); the file store (`http://files.test`) by
// `context.route`, which records each upload's multipart body and answers 204 after a pause, so that the
// progress bar can be seen; and, to see the bar move (an intercepted request reports no progress until it is
// answered), a store on the Node server that reads an 8 MB upload slowly. Needs a built bundle (npm run build).
//
// The last test is end to end against chat-dev (CHAT_DEV_BIN; skipped without it): a real JPEG picked, uploaded
// to the disk file store through the site, processed, sent, and its thumbnail and original loaded from the
// dev server by the other member's widget.

import assert from "node:assert/strict";
import { createReadStream, existsSync, mkdirSync } from "node:fs";
import { createServer } from "node:http";
import { join, normalize } from "node:path";
import { fileURLToPath } from "node:url";
import { deflateSync } from "node:zlib";
import { after, before, test } from "node:test";
import { chromium } from "playwright-core";
import { ARTEFACTS, CHROMIUM_OPTIONS, Stack, axe, startSite } from "./harness.mjs";

const WEB = fileURLToPath(new URL("../..", import.meta.url));
const BIN = process.env.CHAT_DEV_BIN;
/** The service API's credential in local mode (`LOCAL_SERVICE_TOKEN` in backend/src/config.rs). */
const SERVICE_TOKEN = "local-service-token";
const SHOTS = join(ARTEFACTS, "screenshots");
/** The file store's origin: another origin than the page's, as S3 is. */
const FILES = "http://files.test";
const BOOKING = 7;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

let server;
let origin;
let browser;
/** Called when `/slow-store` has read a whole upload (see the progress test). */
let slowStoreDone = () => {};

/** An unsigned JWT for `sub` (the widget reads `sub` and `exp`; the scripted server checks nothing). */
const token = (sub) => {
  const b64 = (v) => Buffer.from(JSON.stringify(v)).toString("base64url");
  return `${b64({ alg: "HS256", typ: "JWT" })}.${b64({ sub, exp: Math.floor(Date.now() / 1000) + 3600 })}.sig`;
};

/** A PNG of `width`×`height` in one colour (a thumbnail or an original the store serves). */
function png(width, height, [r, g, b]) {
  const table = Array.from({ length: 256 }, (_, n) => {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    return c >>> 0;
  });
  const crc = (bytes) => {
    let c = 0xffffffff;
    for (const byte of bytes) c = table[(c ^ byte) & 0xff] ^ (c >>> 8);
    return (c ^ 0xffffffff) >>> 0;
  };
  const chunk = (type, data) => {
    const body = Buffer.concat([Buffer.from(type, "latin1"), data]);
    const out = Buffer.alloc(body.length + 8);
    out.writeUInt32BE(data.length, 0);
    body.copy(out, 4);
    out.writeUInt32BE(crc(body), body.length + 4);
    return out;
  };
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header.set([8, 2, 0, 0, 0], 8);
  const row = Buffer.concat([Buffer.from([0]), Buffer.from(Array.from({ length: width }, () => [r, g, b]).flat())]);
  const pixels = deflateSync(Buffer.concat(Array.from({ length: height }, () => row)));
  return Buffer.concat([Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]), chunk("IHDR", header), chunk("IDAT", pixels), chunk("IEND", Buffer.alloc(0))]);
}
const THUMBNAIL = png(320, 240, [90, 140, 200]);
const ORIGINAL = png(800, 600, [200, 120, 60]);

before(async () => {
  assert.ok(existsSync(join(WEB, "dist/booking-chat.js")), "run npm run build first");
  server = createServer((req, res) => {
    const url = new URL(req.url, "http://site");
    if (url.pathname === "/token") {
      res.writeHead(200, { "content-type": "application/json", "cache-control": "no-store" });
      return void res.end(JSON.stringify({ token: token(url.searchParams.get("user") ?? "alice") }));
    }
    if (url.pathname === "/slow-store") {
      // A store on a slow line: reads the body a little at a time, so that the browser's upload progress moves.
      let bytes = 0;
      req.on("data", (chunk) => {
        bytes += chunk.length;
        req.pause();
        setTimeout(() => req.resume(), 15);
      });
      req.on("end", () => {
        res.writeHead(204).end();
        slowStoreDone(bytes);
      });
      return;
    }
    if (url.pathname === "/page") {
      const max = url.searchParams.get("max");
      res.writeHead(200, { "content-type": "text/html; charset=utf-8" });
      return void res.end(`<!doctype html><html lang="en"><head><meta charset="utf-8"><title>attachments</title>
        <script type="module" src="/dist/booking-chat.js"></script></head><body><main><h1>Attachments</h1>
        <booking-chat heading="alice #${BOOKING}" user="alice" booking="${BOOKING}" ws-url="ws://${url.host}/ws" token-url="/token?user=alice"
          ${max ? `max-attachment-bytes="${max}"` : ""}></booking-chat></main></body></html>`);
    }
    const file = normalize(join(WEB, url.pathname));
    if (!url.pathname.startsWith("/dist/") || !file.startsWith(WEB) || !existsSync(file)) return void res.writeHead(404).end();
    res.writeHead(200, { "content-type": file.endsWith(".js") ? "text/javascript" : "application/json" });
    createReadStream(file).pipe(res);
  });
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  origin = `http://127.0.0.1:${server.address().port}`;
  browser = await chromium.launch(CHROMIUM_OPTIONS);
  mkdirSync(SHOTS, { recursive: true });
});

after(async () => {
  await browser?.close();
  await new Promise((resolve) => (server ? server.close(resolve) : resolve()));
});

/** The parts of a multipart/form-data body, in order: `{name, filename?, type?, value}` (value as latin1 text). */
function multipart(contentType, body) {
  const boundary = /boundary=(?:"([^"]+)"|([^;]+))/.exec(contentType);
  assert.ok(boundary, `not multipart: ${contentType}`);
  const text = body.toString("latin1");
  return text
    .split(`--${boundary[1] ?? boundary[2]}`)
    .slice(1, -1)
    .map((part) => {
      const [head, ...rest] = part.slice(2, -2).split("\r\n\r\n");
      const disposition = /name="([^"]*)"(?:; filename="([^"]*)")?/.exec(head);
      const type = /Content-Type: (.+)/i.exec(head)?.[1];
      return { name: disposition[1], filename: disposition[2], type, value: rest.join("\r\n\r\n") };
    });
}

/** A stored message of the scripted server. */
const message = (id, sender, body, extra = {}) => ({
  id,
  booking_id: BOOKING,
  sender_id: sender,
  body,
  client_message_id: null,
  created_at: Date.now() - 60_000 + id,
  reactions: [],
  edited_at: null,
  deleted: false,
  ...extra,
});

/**
 * A page with the widget online against a scripted chat server and file store. Options: `history` (messages),
 * `max` (the max-attachment-bytes attribute), `verdict(attachment)` (what the processor decides once the file
 * arrived: the ready or rejected attachment; default ready, an image 1600×1200 with a thumbnail),
 * `refuseUpload(data)` (an error body answering upload_attachment, or nothing), `store(request)` (an answer of
 * the store to an upload instead of 204), `uploadMs` (how long the store takes to answer), `processMs`,
 * `losePush` (the verdict is decided but its push never comes; get_attachment still answers it).
 * Returns the page, what the widget sent (`sent`), the uploads the store received (`uploads`: the parts), the
 * store's GETs (`downloads`), `push(frame)`, `drop()` (the server closes the connection), the verdicts decided
 * (`decided`: ids), and the page's errors.
 */
async function open(options = {}) {
  const { history = [], verdict, refuseUpload, store, uploadMs = 600, processMs = 300, uploadUrl = `${FILES}/upload`, downloadMs = 0, losePush = false } = options;
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  const page = await context.newPage();
  const errors = [];
  page.on("pageerror", (e) => errors.push(e.message));
  page.on("console", (m) => m.type() === "error" && !/Failed to load resource/.test(m.text()) && errors.push(m.text()));
  const sent = [];
  const uploads = [];
  const downloads = [];
  const decided = [];
  /** Attachments by id, as the server knows them; the upload's key names its attachment. */
  const attachments = new Map();
  const byKey = new Map();
  let seq = 0;
  let messageId = history.reduce((max, m) => Math.max(max, m.id), 0);
  let socket;
  const push = (frame) => socket.send(JSON.stringify({ timestamp: Date.now(), ...frame }));
  await page.routeWebSocket(/\/ws\?/, (ws) => {
    socket = ws;
    ws.onMessage((text) => {
      const frame = JSON.parse(String(text));
      sent.push(frame);
      const { action, data = {}, request_id } = frame;
      const answer = (f) => push({ ...f, request_id: String(request_id) });
      if (action === "sync") answer({ type: "history", booking_id: BOOKING, messages: history, has_more: false, synced_at: Date.now() });
      if (action === "session") answer({ type: "session", user_id: "alice", expires_at: Date.now() + 3_600_000, closes_at: Date.now() + 7_200_000 });
      if (action === "ping") answer({ type: "pong" });
      if (action === "upload_attachment") {
        const refusal = refuseUpload?.(data);
        if (refusal) return answer({ type: "error", error: refusal });
        const id = `att_${++seq}`;
        const attachment = { id, name: data.name, content_type: data.content_type, size: data.size, status: "pending" };
        const key = `uploads/${BOOKING}/${id}`;
        attachments.set(id, attachment);
        byKey.set(key, id);
        const fields = { key, "Content-Type": data.content_type, "x-amz-credential": "AKIA/20261207/eu-west-1/s3/aws4_request", "x-amz-date": "20261207T100000Z", policy: "eyJjb25kaXRpb25zIjpbXX0=", "x-amz-signature": "5ig" };
        answer({ type: "upload", booking_id: BOOKING, attachment, upload: { url: uploadUrl, method: "POST", fields, expires_at: Date.now() + 300_000 } });
      }
      if (action === "get_attachment") {
        const attachment = attachments.get(data.attachment_id);
        if (!attachment) return answer({ type: "error", error: { code: "NOT_FOUND", message: "attachment not found" } });
        answer({ type: "attachment", booking_id: BOOKING, attachment });
      }
      if (action === "attachment_url") {
        const { attachment_id, variant } = data;
        answer({ type: "attachment_url", booking_id: BOOKING, attachment_id, variant, url: `${FILES}/${variant}/${attachment_id}?sig=${++seq}`, expires_at: Date.now() + 300_000 });
      }
      if (action === "send_message") {
        const files = (data.attachments ?? []).map((id) => attachments.get(id));
        const stored = message(++messageId, "alice", data.body, { client_message_id: data.client_message_id, created_at: Date.now() });
        if (files.length) stored.attachments = files;
        answer({ type: "message", booking_id: BOOKING, message: stored });
      }
    });
  });
  await context.route(`${FILES}/**`, async (route) => {
    const request = route.request();
    const cors = { "access-control-allow-origin": origin, "access-control-allow-methods": "POST, GET", "access-control-allow-headers": "*" };
    if (request.method() === "OPTIONS") return route.fulfill({ status: 204, headers: cors });
    const url = new URL(request.url());
    if (request.method() === "POST") {
      const parts = multipart(request.headers()["content-type"], request.postDataBuffer());
      uploads.push(parts);
      await sleep(uploadMs);
      const refusal = store?.(parts);
      if (refusal) return route.fulfill({ status: refusal.status, headers: { ...cors, "content-type": "application/xml" }, body: refusal.body });
      await route.fulfill({ status: 204, headers: cors });
      const id = byKey.get(parts.find((p) => p.name === "key")?.value);
      const pending = attachments.get(id);
      if (!pending) return;
      // The processor, a little later: what it found, pushed to the uploader.
      await sleep(processMs);
      const image = pending.content_type.startsWith("image/");
      const checked = verdict?.(pending) ?? { ...pending, status: "ready", width: image ? 1600 : null, height: image ? 1200 : null, thumbnail: image };
      attachments.set(id, checked);
      decided.push(id);
      if (!losePush) push({ type: "attachment", booking_id: BOOKING, attachment: checked });
      return;
    }
    downloads.push(url.pathname + url.search);
    await sleep(downloadMs);
    const [, variant] = url.pathname.split("/");
    if (url.pathname.includes("pdf")) {
      return route.fulfill({ status: 200, headers: { ...cors, "content-type": "application/pdf", "content-disposition": 'inline; filename="receipt.pdf"' }, body: "%PDF-1.4\n%%EOF\n" });
    }
    await route.fulfill({ status: 200, headers: { ...cors, "content-type": "image/png" }, body: variant === "original" ? ORIGINAL : THUMBNAIL });
  });
  await page.goto(`${origin}/page${options.max ? `?max=${options.max}` : ""}`);
  await page.waitForSelector(`${WIDGET} .status[data-state=online]`);
  const drop = () => socket.close({ code: 1006 });
  return { page, context, sent, uploads, downloads, push, drop, decided, errors, attachments };
}

const WIDGET = "booking-chat";
const chips = `${WIDGET} li[part=attachment]`;
const send = `${WIDGET} button[part=send]`;
const input = `${WIDGET} textarea[part=input]`;
const jpegFile = (name = "scratch.jpg", bytes = 200_000) => ({ name, mimeType: "image/jpeg", buffer: Buffer.alloc(bytes, 0xab) });
const disabled = (page, selector) => page.locator(selector).evaluate((el) => el.disabled);
const text = (page, selector) => page.locator(selector).evaluate((el) => el.textContent);
/** What has the focus inside the widget: `tag:part`. */
const focused = (page) =>
  page.locator(WIDGET).evaluate((el) => {
    const a = el.shadowRoot.activeElement;
    return a ? `${a.localName}:${a.getAttribute("part")}` : "none";
  });

test("a JPEG picked with the attach button: the form's fields in order and the file last, a progress bar, Processing…, a preview; Send carries it", async () => {
  const { page, context, sent, uploads, errors } = await open({ uploadMs: 1_500, processMs: 1_500 });
  const picker = page.locator(`${WIDGET} input[type=file]`);
  assert.equal(await picker.getAttribute("accept"), "image/jpeg,image/png,image/webp,application/pdf");
  assert.equal(await picker.evaluate((el) => el.multiple), true);
  assert.equal(await page.locator(`${WIDGET} button[part=attach]`).getAttribute("aria-label"), "Attach files");
  assert.equal(await disabled(page, send), true, "nothing to send yet");
  // The button opens the picker (a file chooser), which is the input.
  const [chooser] = await Promise.all([page.waitForEvent("filechooser"), page.click(`${WIDGET} button[part=attach]`)]);
  assert.equal(chooser.isMultiple(), true);
  await chooser.setFiles(jpegFile());

  // While the store takes its time: a progress bar named after the file; Send waits.
  const bar = page.locator(`${chips} progress`);
  await bar.waitFor();
  assert.equal(await bar.getAttribute("aria-label"), "Uploading scratch.jpg");
  assert.equal(await page.getByRole("progressbar", { name: "Uploading scratch.jpg" }).count(), 1);
  assert.equal(await disabled(page, send), true);
  await page.fill(input, "The scratch on the left door");
  assert.equal(await disabled(page, send), true, "a file on its way holds the message back");
  assert.deepEqual(await axe(page), [], "no axe violations while uploading");
  // (An intercepted request reports no progress until it is answered: the next test watches the bar move.)
  await page.screenshot({ path: join(SHOTS, "attachments-uploading.png") });

  await page.waitForSelector(`${chips}[data-state=processing]:has-text("Processing…")`);
  const [parts] = uploads;
  assert.deepEqual(parts.map((p) => p.name), ["key", "Content-Type", "x-amz-credential", "x-amz-date", "policy", "x-amz-signature", "file"], "the fields in order, the file last");
  assert.deepEqual([parts.at(-1).filename, parts.at(-1).type, parts.at(-1).value.length], ["scratch.jpg", "image/jpeg", 200_000]);
  assert.equal(parts.find((p) => p.name === "key").value, `uploads/${BOOKING}/att_1`);
  assert.deepEqual(sent.find((f) => f.action === "upload_attachment").data, { name: "scratch.jpg", content_type: "image/jpeg", size: 200_000 });

  // Ready: a preview (the thumbnail the server made), and Send.
  await page.waitForSelector(`${chips}[data-state=ready] img[part=preview]`);
  await page.waitForFunction(() => document.querySelector("booking-chat").shadowRoot.querySelector("[part=preview]").complete);
  assert.equal(await disabled(page, send), false);
  assert.deepEqual(await axe(page), [], "no axe violations with a ready file");
  await page.screenshot({ path: join(SHOTS, "attachments-ready.png") });
  await page.click(send);
  await page.waitForSelector(`${WIDGET} li.msg:has-text("The scratch on the left door") [part=thumbnail] img`);
  const frame = sent.find((f) => f.action === "send_message");
  assert.deepEqual([frame.data.body, frame.data.attachments], ["The scratch on the left door", ["att_1"]]);
  assert.equal(await page.locator(chips).count(), 0, "the sent file leaves the composer");
  assert.equal(await disabled(page, send), true);
  assert.equal(await focused(page), "textarea:input");
  assert.deepEqual(errors, []);
  await context.close();
});

test("the progress bar follows the bytes sent to a slow store (not intercepted: the browser's own upload progress)", async () => {
  const { page, context, push, attachments, errors } = await open({ uploadUrl: `${origin}/slow-store` });
  slowStoreDone = () => push({ type: "attachment", booking_id: BOOKING, attachment: { ...attachments.get("att_1"), status: "ready", width: 10, height: 10, thumbnail: true } });
  await page.locator(WIDGET).evaluate((el) => {
    // Every value the bar takes, from its first.
    window.progress = [];
    const list = el.shadowRoot.querySelector("[part=attachments]");
    new MutationObserver(() => {
      const bar = list.querySelector("progress");
      if (bar && bar.value !== window.progress.at(-1)) window.progress.push(bar.value);
    }).observe(list, { subtree: true, childList: true, attributes: true });
  });
  await page.locator(`${WIDGET} input[type=file]`).setInputFiles([jpegFile("big.jpg", 8_000_000)]);
  await page.waitForSelector(`${chips}[data-state=ready]`, { timeout: 60_000 });
  const values = await page.evaluate(() => window.progress);
  console.log(`# measured: ${values.length} progress values for 8 MB: ${values.map((v) => v.toFixed(2)).join(" ")}`);
  assert.ok(values.some((v) => v > 0 && v < 1), "the bar moved between 0 and 1");
  assert.deepEqual(values, [...values].sort((a, b) => a - b), "never backwards");
  assert.deepEqual(errors, []);
  await context.close();
});

test("pasting an image into the text box attaches it; pasting text (even with a picture of it) pastes text", async () => {
  const { page, context, sent, errors } = await open();
  await page.locator(input).evaluate((el) => {
    const paste = (data) => el.dispatchEvent(new ClipboardEvent("paste", { clipboardData: data, bubbles: true, cancelable: true, composed: true }));
    const image = new DataTransfer();
    image.items.add(new File([new Uint8Array(5_000)], "image.png", { type: "image/png" }));
    window.pastedImage = !paste(image); // prevented: the widget took it
    const office = new DataTransfer();
    office.setData("text/plain", "cells as text");
    office.items.add(new File([new Uint8Array(100)], "cells.png", { type: "image/png" }));
    window.pastedText = !paste(office);
  });
  assert.deepEqual(await page.evaluate(() => [window.pastedImage, window.pastedText]), [true, false]);
  await page.waitForSelector(`${chips}[data-state=ready]:has-text("image.png")`);
  assert.deepEqual(sent.filter((f) => f.action === "upload_attachment").map((f) => f.data), [{ name: "image.png", content_type: "image/png", size: 5_000 }]);
  // Only a file: the message may have no text.
  assert.equal(await disabled(page, send), false);
  await page.press(input, "Enter");
  await page.waitForSelector(`${WIDGET} li.msg.mine [part=thumbnail] img[alt="image.png"]`);
  assert.deepEqual(sent.find((f) => f.action === "send_message").data.body, "");
  assert.deepEqual(errors, []);
  await context.close();
});

test("dragging a file over the chat shows where it goes; dropping it on the timeline attaches it", async () => {
  const { page, context, sent, errors } = await open();
  const log = page.locator(`${WIDGET} [part=log]`);
  const transfer = await page.evaluateHandle(() => {
    const data = new DataTransfer();
    data.items.add(new File([new Uint8Array(3_000)], "receipt.pdf", { type: "application/pdf" }));
    return data;
  });
  await log.dispatchEvent("dragover", { dataTransfer: transfer });
  const container = page.locator(`${WIDGET} [part=container]`);
  assert.equal(await container.getAttribute("data-drop"), "Drop files to attach them");
  await page.screenshot({ path: join(SHOTS, "attachments-drop.png") });
  await log.dispatchEvent("dragleave", { dataTransfer: transfer });
  assert.equal(await container.getAttribute("data-drop"), null, "leaving the chat ends the drop state");
  await log.dispatchEvent("dragover", { dataTransfer: transfer });
  await log.dispatchEvent("drop", { dataTransfer: transfer });
  assert.equal(await container.getAttribute("data-drop"), null);
  // A PDF has no thumbnail: ready, named, no preview.
  await page.waitForSelector(`${chips}[data-state=ready]:has-text("receipt.pdf")`);
  assert.equal(await page.locator(`${chips} img`).count(), 0);
  assert.deepEqual(sent.filter((f) => f.action === "upload_attachment").map((f) => f.data.name), ["receipt.pdf"]);
  assert.deepEqual(errors, []);
  await context.close();
});

test("refusals: too large before anything is sent, the server's PAYLOAD_TOO_LARGE, a type, the store's AccessDenied; Remove gives the focus back", async () => {
  const { page, context, sent, uploads, errors } = await open({
    max: "100000",
    refuseUpload: (data) => data.name === "declared-large.jpg" && { code: "PAYLOAD_TOO_LARGE", message: "at most 10485760 bytes" },
    store: (parts) =>
      parts.at(-1).filename === "late.jpg" && {
        status: 403,
        body: "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>AccessDenied</Code><Message>Invalid according to Policy: Policy expired.</Message><RequestId>1</RequestId></Error>",
      },
  });
  const picker = page.locator(`${WIDGET} input[type=file]`);
  await picker.setInputFiles([jpegFile("huge.jpg", 150_000), { name: "notes.txt", mimeType: "text/plain", buffer: Buffer.from("hi") }]);
  await page.waitForSelector(`${chips}:has-text("huge.jpg") [role=alert]`);
  assert.equal(await text(page, `${chips}:has-text("huge.jpg") [role=alert]`), "Too large: at most 97.7 kB");
  assert.equal(await text(page, `${chips}:has-text("notes.txt") [role=alert]`), "Only JPEG, PNG, WebP and PDF files can be attached");
  assert.equal(sent.filter((f) => f.action === "upload_attachment").length, 0, "refused before asking the server");

  await picker.setInputFiles([jpegFile("declared-large.jpg", 90_000)]);
  await page.waitForSelector(`${chips}:has-text("declared-large.jpg") [role=alert]:has-text("Too large")`);
  await picker.setInputFiles([jpegFile("late.jpg", 1_000)]);
  await page.waitForSelector(`${chips}:has-text("late.jpg") [role=alert]`);
  assert.equal(await text(page, `${chips}:has-text("late.jpg") [role=alert]`), "Upload failed: Invalid according to Policy: Policy expired.");
  assert.equal(uploads.length, 1, "only late.jpg reached the store");
  assert.equal(await disabled(page, send), true, "nothing to send: every file failed");
  assert.deepEqual(await axe(page), [], "no axe violations with the refusals shown");
  await page.screenshot({ path: join(SHOTS, "attachments-refused.png") });

  // Remove, from the keyboard: the chip goes, the focus goes to the text box.
  const remove = page.locator(`${chips}:has-text("huge.jpg") button[part=remove]`);
  assert.equal(await remove.getAttribute("aria-label"), "Remove huge.jpg");
  await remove.focus();
  await page.keyboard.press("Enter");
  await page.waitForSelector(`${chips}:has-text("huge.jpg")`, { state: "detached" });
  assert.equal(await focused(page), "textarea:input");
  assert.equal(await page.locator(chips).count(), 3);
  assert.deepEqual(errors, []);
  await context.close();
});

test("a file the server rejects shows its reason and is not sent with the message", async () => {
  const { page, context, sent, errors } = await open({
    verdict: (a) => (a.name === "fake.jpg" ? { ...a, status: "rejected", reason: "the file is not an image" } : undefined),
  });
  await page.locator(`${WIDGET} input[type=file]`).setInputFiles([jpegFile("fake.jpg", 2_000), jpegFile("real.jpg", 2_000)]);
  await page.waitForSelector(`${chips}:has-text("fake.jpg") [role=alert]`);
  assert.equal(await text(page, `${chips}:has-text("fake.jpg") [role=alert]`), "Not accepted: the file is not an image");
  await page.waitForSelector(`${chips}[data-state=ready]:has-text("real.jpg")`);
  await page.fill(input, "Two photos");
  await page.click(send);
  await page.waitForSelector(`${WIDGET} li.msg:has-text("Two photos") [part=thumbnail]`);
  assert.deepEqual(sent.find((f) => f.action === "send_message").data.attachments, ["att_2"]);
  assert.equal(await page.locator(`${WIDGET} li.msg:has-text("Two photos") [part=thumbnail]`).count(), 1);
  // The rejected one stays above the composer, saying why, until removed.
  assert.deepEqual(await page.locator(chips).evaluateAll((li) => li.map((x) => x.dataset.state)), ["failed"]);
  assert.deepEqual(errors, []);
  await context.close();
});

test("a verdict whose push was lost: the chip stays Processing… until the widget is back online, then asks for it (get_attachment) and is ready", async () => {
  const { page, context, sent, drop, decided, errors } = await open({ losePush: true, processMs: 200 });
  await page.locator(`${WIDGET} input[type=file]`).setInputFiles([jpegFile("scratch.jpg", 2_000)]);
  await page.waitForSelector(`${chips}[data-state=processing]:has-text("Processing…")`);
  while (!decided.includes("att_1")) await sleep(50);
  // The verdict is decided, but its push never came: the chip waits (well within the 15 s before it asks).
  await sleep(500);
  assert.equal(await page.locator(`${chips}[data-state=processing]`).count(), 1);
  assert.equal(sent.filter((f) => f.action === "get_attachment").length, 0);
  // The connection drops and comes back: the widget asks how the file stands, and the answer makes it ready.
  const synced = () => sent.filter((f) => f.action === "sync").length;
  const before = synced();
  drop();
  while (synced() === before) await sleep(50);
  // Well before the 15 s after which it would ask anyway: the reconnect is what asked.
  await page.waitForSelector(`${chips}[data-state=ready] img[part=preview]`, { timeout: 5_000 });
  assert.deepEqual(sent.filter((f) => f.action === "get_attachment").map((f) => f.data), [{ attachment_id: "att_1" }]);
  const syncs = sent.flatMap((f, i) => (f.action === "sync" ? [i] : []));
  assert.ok(sent.findIndex((f) => f.action === "get_attachment") > syncs.at(-1), "asked once the timeline is whole again");
  assert.equal(await disabled(page, send), false);
  await page.fill(input, "After the reconnect");
  await page.click(send);
  await page.waitForSelector(`${WIDGET} li.msg:has-text("After the reconnect") [part=thumbnail]`);
  assert.deepEqual(sent.find((f) => f.action === "send_message").data.attachments, ["att_1"]);
  assert.deepEqual(errors, []);
  await context.close();
});

test("a message's thumbnail keeps its size before it loads, opens the original in a modal viewer; Escape closes it and the focus goes back", async () => {
  const photo = { id: "att_p", name: "pickup.jpg", content_type: "image/jpeg", size: 481_211, status: "ready", width: 1600, height: 1200, thumbnail: true };
  const { page, context, sent, downloads, errors } = await open({ history: [message(1, "bob", "At pick-up", { attachments: [photo] })], downloadMs: 1_000 });
  const thumb = page.locator(`${WIDGET} li.msg [part=thumbnail]`);
  const img = thumb.locator("img");
  assert.deepEqual(await img.evaluate((el) => [el.alt, el.getAttribute("width"), el.getAttribute("height")]), ["pickup.jpg", "1600", "1200"]);
  // Before it loads, its place is kept (4:3, as the attachment says), so nothing moves when it comes.
  const before = await img.boundingBox();
  assert.equal(await img.evaluate((el) => el.naturalWidth), 0, "not loaded yet");
  assert.ok(before.width > 100 && Math.abs(before.width / before.height - 4 / 3) < 0.02, `the 4:3 box kept: ${JSON.stringify(before)}`);
  await page.waitForFunction(() => document.querySelector("booking-chat").shadowRoot.querySelector("[part=thumbnail] img").naturalWidth > 0);
  assert.deepEqual(await img.boundingBox(), before, "loaded in the same box");
  assert.equal(await thumb.getAttribute("aria-haspopup"), "dialog");
  assert.equal(downloads.filter((d) => d.startsWith("/thumbnail/att_p")).length, 1);

  await thumb.focus();
  await page.keyboard.press("Enter");
  const viewer = page.locator(`${WIDGET} dialog[part=viewer]`);
  await viewer.waitFor();
  assert.equal(await viewer.evaluate((el) => el.open && el.matches(":modal")), true);
  assert.equal(await viewer.getAttribute("aria-label"), "pickup.jpg");
  await page.waitForFunction(() => document.querySelector("booking-chat").shadowRoot.querySelector("[part=original]").naturalWidth === 800);
  assert.equal(await viewer.locator("img").getAttribute("alt"), "pickup.jpg");
  assert.equal(await focused(page), "button:close", "the focus is in the viewer");
  assert.ok(downloads.some((d) => d.startsWith("/original/att_p")));
  assert.deepEqual(await axe(page), [], "no axe violations with the viewer open");
  await page.screenshot({ path: join(SHOTS, "attachments-viewer.png") });
  await page.keyboard.press("Escape");
  await viewer.waitFor({ state: "hidden" });
  assert.equal(await focused(page), "button:thumbnail", "the focus is back on the thumbnail");

  // Opened again: the URLs asked for a minute ago are still good, not asked again; Close closes.
  await page.keyboard.press("Enter");
  await viewer.waitFor();
  await page.click(`${WIDGET} button[part=close]`);
  await viewer.waitFor({ state: "hidden" });
  assert.equal(sent.filter((f) => f.action === "attachment_url").length, 2, "one per variant");
  assert.deepEqual(errors, []);
  await context.close();
});

test("a message's PDF shows its name and size and opens in a new tab", async () => {
  const pdf = { id: "att_pdf", name: "receipt.pdf", content_type: "application/pdf", size: 481_211, status: "ready", width: null, height: null, thumbnail: false };
  const { page, context, sent, errors } = await open({ history: [message(1, "bob", "", { attachments: [pdf] })] });
  const file = page.locator(`${WIDGET} li.msg button[part=file]`);
  assert.equal((await file.textContent()).trim(), "📄 receipt.pdf (469.9 kB)");
  assert.equal(await page.locator(`${WIDGET} li.msg [part=body]`).count(), 0, "no empty body under a file alone");
  assert.deepEqual(await axe(page), [], "no axe violations with a file");
  const [tab] = await Promise.all([context.waitForEvent("page"), file.click()]);
  await tab.waitForURL(/files\.test\/original\/att_pdf\?sig=/).catch(() => {});
  const asked = sent.filter((f) => f.action === "attachment_url").map((f) => f.data);
  assert.deepEqual(asked, [{ attachment_id: "att_pdf", variant: "original" }]);
  assert.match(tab.url(), /^http:\/\/files\.test\/original\/att_pdf\?sig=/);
  assert.equal(await tab.evaluate(() => window.opener), null, "the tab cannot reach the chat's page");
  assert.deepEqual(errors, []);
  await context.close();
});

test("end to end against chat-dev: a real JPEG picked, uploaded, processed, sent, and its thumbnail and original loaded from the dev server", { skip: !BIN && "needs CHAT_DEV_BIN" }, async () => {
  const stack = new Stack(BIN);
  let site;
  let context;
  try {
    await stack.start();
    site = await startSite(stack);
    const booking = await fetch(`${stack.backendUrl}/api/service/bookings/401`, {
      method: "PUT",
      headers: { authorization: `Bearer ${SERVICE_TOKEN}`, "content-type": "application/json" },
      body: JSON.stringify({ owner_id: "alice", renter_id: "bob", title: "booking 401" }),
    });
    assert.ok(booking.ok, `PUT booking: HTTP ${booking.status}`);
    context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    const page = await context.newPage();
    const errors = [];
    page.on("pageerror", (e) => errors.push(e.message));
    const files = [];
    page.on("requestfinished", async (r) => {
      if (new URL(r.url()).pathname.startsWith("/api/files/")) files.push(`${r.method()} ${new URL(r.url()).pathname} ${(await r.response())?.status()}`);
    });
    await page.goto(`${site.url}/test/page?w=alice:401&w=bob:401`);
    const alice = 'booking-chat[heading="alice #401"]';
    const bob = 'booking-chat[heading="bob #401"]';
    for (const w of [alice, bob]) await page.waitForSelector(`${w} .status[data-state=online]`, { timeout: 20_000 });

    // A real JPEG, 1600×1200, made by the browser's own encoder.
    const jpeg = Buffer.from(
      await page.evaluate(async () => {
        const canvas = new OffscreenCanvas(1600, 1200);
        const g = canvas.getContext("2d");
        g.fillStyle = "#3a7d44";
        g.fillRect(0, 0, 1600, 1200);
        g.fillStyle = "#f2efe6";
        g.fillRect(400, 300, 800, 600);
        const blob = await canvas.convertToBlob({ type: "image/jpeg", quality: 0.9 });
        return [...new Uint8Array(await blob.arrayBuffer())];
      }),
    );
    await page.locator(`${alice} input[type=file]`).setInputFiles({ name: "scratch.jpg", mimeType: "image/jpeg", buffer: jpeg });
    const started = Date.now();
    await page.waitForSelector(`${alice} li[part=attachment][data-state=ready] img[part=preview]`, { timeout: 30_000 }).catch(async (e) => {
      const chip = await page.locator(`${alice} li[part=attachment]`).evaluate((li) => `${li.dataset.state}: ${li.textContent}`);
      throw new Error(`the file did not become ready (${chip})\n${stack.log}`, { cause: e });
    });
    console.log(`# measured: a ${jpeg.length}-byte JPEG uploaded and processed in ${Date.now() - started} ms`);
    await page.fill(`${alice} textarea[part=input]`, "The scratch, at return");
    await page.press(`${alice} textarea[part=input]`, "Enter");

    // bob's widget: the message, its thumbnail (the processor's, at most 320 px) in a 4:3 box, from the dev server.
    const thumbnail = page.locator(`${bob} li.msg:has-text("The scratch, at return") [part=thumbnail] img`);
    await thumbnail.waitFor({ timeout: 20_000 });
    assert.deepEqual(await thumbnail.evaluate((el) => [el.alt, el.getAttribute("width"), el.getAttribute("height")]), ["scratch.jpg", "1600", "1200"]);
    await page.waitForFunction((sel) => document.querySelector(sel).shadowRoot.querySelector("[part=thumbnail] img")?.naturalWidth > 0, bob);
    assert.deepEqual(await thumbnail.evaluate((el) => [el.naturalWidth, el.naturalHeight]), [320, 240]);
    await thumbnail.click();
    await page.waitForFunction((sel) => document.querySelector(sel).shadowRoot.querySelector("[part=original]")?.naturalWidth > 0, bob);
    assert.deepEqual(await page.locator(`${bob} [part=original]`).evaluate((el) => [el.naturalWidth, el.naturalHeight]), [1600, 1200]);
    await page.keyboard.press("Escape");
    await page.locator(`${bob} dialog[part=viewer]`).waitFor({ state: "hidden" });

    // Through the site (the page's origin): the form's target and the signed downloads.
    assert.ok(files.some((f) => /^POST \/api\/files\/upload 204$/.test(f)), JSON.stringify(files));
    assert.ok(files.filter((f) => /^GET \/api\/files\/files\/401\/att_\w+\/(thumbnail|original) 200$/.test(f)).length >= 2, JSON.stringify(files));
    console.log(`# measured: file requests ${JSON.stringify(files)}`);
    // Stored: the message carries the ready attachment, as the processor found it.
    const { token } = await (await fetch(`${stack.backendUrl}/dev/token?user=bob`)).json();
    const history = await (await fetch(`${stack.backendUrl}/api/chat/bookings/401/messages?limit=10`, { headers: { authorization: `Bearer ${token}` } })).json();
    const [attachment] = history.messages.find((m) => m.body === "The scratch, at return").attachments;
    assert.deepEqual([attachment.name, attachment.content_type, attachment.status, attachment.width, attachment.height, attachment.thumbnail], ["scratch.jpg", "image/jpeg", "ready", 1600, 1200, true]);
    assert.deepEqual(errors, []);
  } finally {
    await context?.close();
    await site?.close();
    if (process.exitCode) console.log(`--- chat-dev log ---\n${stack.log}`);
    await stack.dispose();
  }
});
