//! Attachments on the sender's side: each file picked, dropped or pasted becomes an `Upload` that goes from
//! the client's checks (size, type, how many), through `upload_attachment` (the server's answer: the pending
//! attachment and a signed form), the upload itself (a multipart POST to the file store, with progress,
//! abortable), and the server's check of what arrived (the `attachment` frame), to a `ready` attachment that a
//! message carries, or to a failure that says why. That frame is pushed once: if it is lost (the connection
//! dropped while the file was checked), `Uploads` asks for it (`get_attachment`) when the connection is back, and
//! after a while without it. `Uploads` is that state machine for one composer, headless:
//! the upload is a port (`Uploader`), `xhrUploader` its browser adapter; `<booking-chat>` draws the chips.

import { ChatError, MAX_ATTACHMENTS, type ChatClient } from "./client.js";
import { Emitter } from "./emitter.js";
import type { Attachment, UploadForm } from "./frames.js";

/** What the server accepts by default (`ATTACHMENTS_TYPES`), and so what the element's picker offers. */
export const ATTACHMENT_TYPES: readonly string[] = ["image/jpeg", "image/png", "image/webp", "application/pdf"];
/** The largest file by default (`ATTACHMENTS_MAX_BYTES`: 10 MiB). */
export const MAX_ATTACHMENT_BYTES = 10_485_760;
/** How long a file may be processing before the server is asked how it stands, by default (then twice as long each time). */
export const VERDICT_WAIT_MS = 15_000;
/** The longest wait between two such questions. */
const MAX_VERDICT_WAIT_MS = 240_000;

/** Where an upload stands. `failed` ones wait to be removed; only `ready` ones go with a message. */
export type UploadState = "uploading" | "processing" | "ready" | "failed";

/**
 * Why an upload failed: `too_large` (over `maxBytes`, `PAYLOAD_TOO_LARGE`, or the store's `EntityTooLarge`),
 * `type` (not one of `types`), `too_many` (more than `perMessage`), `rejected` (the server refused the file:
 * `detail` is its reason), `failed` (the upload did not go through: `detail` says what the store or the
 * connection said).
 */
export type UploadErrorCode = "too_large" | "type" | "too_many" | "rejected" | "failed";

/** One file on its way to being an attachment. Replaced, never changed, when something about it changes. */
export interface Upload {
  /** Stable for its life (`u1`, `u2`...). */
  key: string;
  name: string;
  /** Bytes. */
  size: number;
  /** The file's type, as the browser says. */
  type: string;
  state: UploadState;
  /** How much of the file has been sent, 0 to 1. */
  progress: number;
  /** The server's description, once it named it (`pending` until checked). */
  attachment?: Attachment;
  error?: { code: UploadErrorCode; detail?: string };
}

/**
 * Uploads `file` with the signed `form` (see `uploadBody`), calling `onProgress` with the fraction sent;
 * resolves when the store answered 2xx. Rejects with a `ChatError`: the store's error `Code` (S3's XML:
 * `EntityTooLarge`, `AccessDenied` for an expired form...) and `Message`, `HTTP_<status>` without one,
 * `NETWORK`, or `ABORTED` once `signal` aborts.
 */
export type Uploader = (form: UploadForm, file: Blob, name: string, onProgress: (fraction: number) => void, signal: AbortSignal) => Promise<void>;

/**
 * The body of an upload: S3's browser-based POST wants every field of the form first, in order, and the file
 * last, as `file` (fields after it are ignored).
 */
export function uploadBody(form: UploadForm, file: Blob, name: string): FormData {
  const body = new FormData();
  for (const [field, value] of Object.entries(form.fields)) body.append(field, value);
  body.append("file", file, name);
  return body;
}

/** The store's refusal: S3's XML error (`<Code>`, `<Message>`), else the status. */
export function storeError(status: number, body: string): ChatError {
  const tag = (name: string) => new RegExp(`<${name}>([^<]*)</${name}>`).exec(body)?.[1];
  return new ChatError(tag("Code") ?? `HTTP_${status}`, tag("Message") ?? `HTTP ${status}`);
}

/** The browser's `Uploader`: `XMLHttpRequest`, for its upload progress (fetch has none). */
export const xhrUploader: Uploader = (form, file, name, onProgress, signal) =>
  new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open(form.method || "POST", form.url);
    xhr.upload.onprogress = (e) => e.lengthComputable && onProgress(e.loaded / e.total);
    xhr.onload = () => (xhr.status >= 200 && xhr.status < 300 ? resolve() : reject(storeError(xhr.status, xhr.responseText)));
    xhr.onerror = () => reject(new ChatError("NETWORK", "the file store could not be reached"));
    xhr.onabort = () => reject(new ChatError("ABORTED", "aborted"));
    signal.addEventListener("abort", () => xhr.abort());
    xhr.send(uploadBody(form, file, name));
  });

/** Settings of `Uploads`; each may be changed later on the instance. */
export interface UploadsOptions {
  /** The largest file, checked before asking the server (default `MAX_ATTACHMENT_BYTES`). */
  maxBytes?: number;
  /** The types offered and accepted (default `ATTACHMENT_TYPES`). */
  types?: readonly string[];
  /** Most files on one message (default `MAX_ATTACHMENTS`). */
  perMessage?: number;
  /** Uploads a file (default `xhrUploader`). */
  uploader?: Uploader;
  /**
   * How long a file may be processing without the server's verdict before it is asked for
   * (`client.attachmentStatus`), doubling while it is still `pending` (up to 4 minutes). Default `VERDICT_WAIT_MS`.
   */
  verdictWaitMs?: number;
}

/** The files of one composer (see the file's opening). Listen to `change`; `dispose()` when done. */
export class Uploads extends Emitter<{ change: readonly Upload[] }> {
  maxBytes: number;
  types: readonly string[];
  perMessage: number;
  uploader: Uploader;
  verdictWaitMs: number;
  #items: Upload[] = [];
  /** The next question about a processing file's verdict, by upload key (one at a time; it asks only while processing). */
  #asks = new Map<string, ReturnType<typeof setTimeout>>();
  #aborts = new Map<string, AbortController>();
  /** The server's verdicts that came before the upload's own answer (a fast check can overtake it). */
  #early = new Map<string, Attachment>();
  #seq = 0;
  #off: () => void;

  constructor(
    readonly client: ChatClient,
    options: UploadsOptions = {},
  ) {
    super();
    this.maxBytes = options.maxBytes ?? MAX_ATTACHMENT_BYTES;
    this.types = options.types ?? ATTACHMENT_TYPES;
    this.perMessage = options.perMessage ?? MAX_ATTACHMENTS;
    this.uploader = options.uploader ?? xhrUploader;
    this.verdictWaitMs = options.verdictWaitMs ?? VERDICT_WAIT_MS;
    const offAttachment = client.on("attachment", (a) => this.#checked(a));
    // Back online (after a drop, the timeline resynced): a verdict pushed meanwhile was lost, so ask.
    const offStatus = client.on("status", (s) => {
      if (s.state === "online") for (const u of this.#items) this.#ask(u.key, 0);
    });
    this.#off = () => (offAttachment(), offStatus());
  }

  /** Every upload, in the order added. */
  get items(): readonly Upload[] {
    return this.#items;
  }
  /** The attachments that may go with a message now. */
  get ready(): Attachment[] {
    return this.#items.flatMap((u) => (u.state === "ready" && u.attachment ? [u.attachment] : []));
  }
  /** A file is still uploading or being checked: a message should wait for it. */
  get busy(): boolean {
    return this.#items.some((u) => u.state === "uploading" || u.state === "processing");
  }

  /** Starts uploading each file (or refuses it, saying why, without asking the server). */
  add(files: Iterable<File>): void {
    for (const file of files) void this.#upload(file);
  }

  /** Drops an upload, aborting it if it is on its way. */
  remove(key: string): void {
    this.#aborts.get(key)?.abort();
    this.#set(this.#items.filter((u) => u.key !== key));
  }

  /** Takes the ready attachments out (they go with a message); failures stay to be read and removed. */
  take(): Attachment[] {
    const ready = this.ready;
    this.#set(this.#items.filter((u) => u.state !== "ready"));
    return ready;
  }

  /** Aborts everything and stops listening to the client. */
  dispose(): void {
    for (const u of this.#items) this.remove(u.key);
    this.#off();
  }

  async #upload(file: File): Promise<void> {
    const key = `u${++this.#seq}`;
    const kept = this.#items.filter((u) => u.state !== "failed").length;
    const refusal: UploadErrorCode | undefined =
      file.size > this.maxBytes ? "too_large" : !this.types.includes(file.type) ? "type" : kept >= this.perMessage ? "too_many" : undefined;
    const upload: Upload = { key, name: file.name, size: file.size, type: file.type, state: refusal ? "failed" : "uploading", progress: 0 };
    if (refusal) upload.error = { code: refusal };
    this.#set([...this.#items, upload]);
    if (refusal) return;
    const abort = new AbortController();
    this.#aborts.set(key, abort);
    let sending = false;
    try {
      const answer = await this.client.requestUpload(file);
      if (abort.signal.aborted) return;
      const id = answer.attachment.id;
      this.#patch(key, { attachment: answer.attachment });
      sending = true;
      await this.uploader(answer.upload, file, file.name, (progress) => this.#patch(key, { progress }), abort.signal);
      if (abort.signal.aborted) return;
      this.#patch(key, { state: "processing", progress: 1 });
      this.#ask(key, this.verdictWaitMs);
      const verdict = this.#early.get(id);
      this.#early.delete(id);
      if (verdict) this.#checked(verdict);
    } catch (error) {
      if (abort.signal.aborted) return;
      const { code, message } = error as ChatError;
      this.#patch(key, {
        state: "failed",
        error:
          code === "PAYLOAD_TOO_LARGE" || code === "EntityTooLarge"
            ? { code: "too_large" }
            : { code: !sending && code === "VALIDATION_ERROR" ? "rejected" : "failed", detail: message },
      });
    } finally {
      this.#aborts.delete(key);
    }
  }

  /**
   * In `ms`, asks the server how the processing upload `key` stands (unless it is no longer processing), its
   * answer taken as the push (still `pending`: wait on), and asks again twice as late (a lost answer too), from
   * `verdictWaitMs` up to 4 minutes. `NOT_FOUND`: the server no longer has it, so it failed.
   */
  #ask(key: string, ms: number): void {
    clearTimeout(this.#asks.get(key));
    this.#asks.set(
      key,
      setTimeout(() => {
        const upload = this.#items.find((u) => u.key === key);
        if (upload?.state !== "processing") return;
        this.#ask(key, Math.min(Math.max(ms * 2, this.verdictWaitMs), MAX_VERDICT_WAIT_MS));
        this.client.attachmentStatus(upload.attachment!.id).then(
          (attachment) => this.#checked(attachment),
          ({ code, message }: ChatError) => code === "NOT_FOUND" && this.#patch(key, { state: "failed", error: { code: "failed", detail: message } }),
        );
      }, ms),
    );
  }

  /** The server's verdict on an upload: `ready`, or `rejected` with its reason. Others' uploads are not ours. */
  #checked(attachment: Attachment): void {
    const upload = this.#items.find((u) => u.attachment?.id === attachment.id);
    if (!upload || attachment.status === "pending") return;
    if (upload.state === "uploading") return void this.#early.set(attachment.id, attachment);
    if (upload.state !== "processing") return;
    this.#patch(upload.key, attachment.status === "ready" ? { state: "ready", attachment } : { state: "failed", attachment, error: { code: "rejected", detail: attachment.reason ?? "" } });
  }

  #patch(key: string, change: Partial<Upload>): void {
    this.#set(this.#items.map((u) => (u.key === key ? { ...u, ...change } : u)));
  }

  #set(items: Upload[]): void {
    this.#items = items;
    this.emit("change", items);
  }
}
