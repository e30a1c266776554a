//! The WebSocket frames, as TypeScript types and as runtime shapes checked against the wire crate.
//!
//! The Rust crate `chat-wire` (`wire/src/server.rs`, `wire/src/client.rs`) is the source of truth. The types
//! below are written by hand from it; the shapes (`SERVER_SHAPES`, `CLIENT_SHAPES`) describe the same fields as
//! data, and a compile-time check below makes each type and its shape name the same keys. The unit test
//! `frames.test.ts` validates every frame of `wire/fixtures/frames.json` (written from the Rust types) against
//! the shapes, strictly: every kind covered, every required field present and typed, no unknown field or type.
//!
//! Kinds marked "draft" are the protocol of an issue that the wire crate does not have yet (none today); the
//! client types and handles them so that nothing changes here when they arrive but moving their shapes to
//! `SERVER_SHAPES` and `CLIENT_SHAPES` (the fixture test says when).

/** Identifier of a booking (a chat room). Positive. */
export type BookingId = number;
/** Identifier of a message: assigned by the backend, increasing within a booking in commit order. */
export type MessageId = number;

/** The reactions of one emoji on one message. */
export interface ReactionSummary {
  emoji: string;
  count: number;
  user_ids: string[];
}

/** A stored chat message as clients see it. */
export interface ChatMessage {
  id: MessageId;
  booking_id: BookingId;
  sender_id: string;
  body: string;
  /** The author's idempotency key; `null` when it sent none. */
  client_message_id: string | null;
  /** Epoch milliseconds, when the backend stored it. */
  created_at: number;
  reactions: ReactionSummary[];
  /** Epoch milliseconds of the author's last edit; `null` if never edited. */
  edited_at: number | null;
  /** The author deleted it: a tombstone that keeps its id; `body` is empty and `reactions` too. */
  deleted: boolean;
  /** On a tombstone: the marketplace's moderators hid it, and why (absent when its author deleted it). */
  moderation?: Moderation;
  /** Its files, each `ready` (absent from servers before attachments, or empty; none on a tombstone). */
  attachments?: Attachment[];
}

/** Where an attachment stands: uploaded and being checked (`pending`), usable (`ready`), or refused (`rejected`). */
export type AttachmentStatus = "pending" | "ready" | "rejected";

/**
 * A file attached to a message, as clients see it. No URL: one is asked for each time it is shown
 * (`attachment_url`), valid minutes.
 */
export interface Attachment {
  /** `att_...`. */
  id: string;
  /** The file's name as the uploader's device had it. */
  name: string;
  /** What the server found in the bytes (the declared type while `pending`). */
  content_type: string;
  /** Bytes, as stored (declared while `pending`). */
  size: number;
  status: AttachmentStatus | (string & {});
  /** Pixels of an image (absent or `null` for a PDF, and while `pending`). */
  width?: number | null;
  height?: number | null;
  /** A thumbnail exists (`attachment_url` with `variant: "thumbnail"`): images once `ready`. */
  thumbnail?: boolean | null;
  /** Why it was `rejected`. */
  reason?: string | null;
}

/**
 * A signed upload form (S3's browser-based POST): a multipart/form-data `method` (POST) to `url` with every
 * field of `fields` in order, then the file as the last part, named `file`.
 */
export interface UploadForm {
  url: string;
  method: string;
  /** In the order they must be sent (`key`, `Content-Type`, `policy`, the signature...). */
  fields: Record<string, string>;
  /** Epoch ms after which the store refuses the form. */
  expires_at: number;
}

/** Why the marketplace's moderators hid a message, and when (epoch ms). */
export interface Moderation {
  reason: string;
  at: number;
}

/** Error codes of `error` frames (`ErrorCode` in the wire crate). */
export const ERROR_CODES = [
  "AUTHENTICATION_ERROR",
  "TOKEN_EXPIRED",
  "AUTHORIZATION_ERROR",
  "VALIDATION_ERROR",
  "PAYLOAD_TOO_LARGE",
  "RATE_LIMITED",
  "NOT_FOUND",
  "BACKEND_UNAVAILABLE",
  "INTERNAL_ERROR",
  "REMOVED_FROM_BOOKING",
  /** The other member blocked the caller: they cannot send, edit, react or type in the booking. */
  "BLOCKED",
  /** The booking's chat is read-only (see `ChatStateView`). */
  "CHAT_CLOSED",
] as const;
/** A known error code; a newer server may send others, which are kept as plain strings. */
export type ErrorCode = (typeof ERROR_CODES)[number];

/** The `error` object of an error frame. */
export interface ErrorBody {
  code: ErrorCode | (string & {});
  message: string;
}

/** Fields every server frame carries. */
interface FrameMeta {
  /** The `request_id` of the client frame this answers (always a string: integers are echoed as text). */
  request_id?: string;
  /** When the server produced the frame, epoch milliseconds. */
  timestamp: number;
}

/**
 * A kind of contact detail the server hid from a message because its booking was not confirmed yet (each
 * replaced in the body by a placeholder such as "[phone number hidden until the booking is confirmed]").
 */
export type ContactKind = "phone" | "email" | "link" | "handle";

export interface MessageFrame extends FrameMeta {
  type: "message";
  booking_id: BookingId;
  message: ChatMessage;
  /** What was hidden from the body before it was stored; absent when nothing was. */
  masked?: ContactKind[];
}
export interface HistoryFrame extends FrameMeta {
  type: "history";
  booking_id: BookingId;
  /** Oldest first. */
  messages: ChatMessage[];
  /** More messages exist beyond this page in the direction asked for. */
  has_more: boolean;
  /** Where each member has read up to (absent from servers before read state). */
  read_positions?: ReadPosition[];
  /** Whether each member is online, and when they were last seen (absent from servers before presence). */
  presence?: MemberPresence[];
  /**
   * The server's time (epoch ms) when it began reading this page: the `changed_since` of the next resume (the
   * first page's, when a sync takes several). Absent or `null` from a server that cannot resume.
   */
  synced_at?: number | null;
  /** Whether the chat may be written in, and who blocked whom (absent from servers before it: writable). */
  chat_state?: ChatStateView;
}
/** How far one member has read. */
export interface ReadPosition {
  user_id: string;
  last_read_message_id: MessageId;
}
/** Whether one member is online. */
export interface MemberPresence {
  user_id: string;
  online: boolean;
  /** Epoch milliseconds (now while online); `null` if never seen. */
  last_seen_at: number | null;
}
export interface ReactionFrame extends FrameMeta {
  type: "reaction";
  booking_id: BookingId;
  message_id: MessageId;
  user_id: string;
  emoji: string;
  added: boolean;
  reactions: ReactionSummary[];
}
export interface ReceiptFrame extends FrameMeta {
  type: "receipt";
  booking_id: BookingId;
  user_id: string;
  last_read_message_id: MessageId;
}
export interface TypingFrame extends FrameMeta {
  type: "typing";
  booking_id: BookingId;
  user_id: string;
  is_typing: boolean;
}
export interface PongFrame extends FrameMeta {
  type: "pong";
  /** On a per-user connection: the booking the answered frame named. */
  booking_id?: BookingId;
}
export interface BookingStatusFrame extends FrameMeta {
  type: "booking_status";
  booking_id: BookingId;
  status: string;
  previous_status: string;
  changed_by: string;
}
export interface ErrorFrame extends FrameMeta {
  type: "error";
  error: ErrorBody;
  /** On a per-user connection: the booking the answered frame named. */
  booking_id?: BookingId;
}
/** The answer to `session` and `refresh`. Times in epoch milliseconds. */
export interface SessionFrame extends FrameMeta {
  type: "session";
  user_id: string;
  /** When the token in use expires. */
  expires_at: number;
  /** When the gateway will close this connection (API Gateway's 2-hour limit). */
  closes_at: number;
  /** On a per-user connection: the booking the answered frame named. */
  booking_id?: BookingId;
}
/** A message was edited or deleted: the message as it is now (the author's copy is its acknowledgement). */
export interface MessageUpdatedFrame extends FrameMeta {
  type: "message_updated";
  booking_id: BookingId;
  message: ChatMessage;
  /** What was hidden from the edited body; absent when nothing was. */
  masked?: ContactKind[];
}
/** A member came online (their first live connection) or went offline (their last one closed). */
export interface PresenceFrame extends FrameMeta {
  type: "presence";
  booking_id: BookingId;
  user_id: string;
  online: boolean;
  last_seen_at: number | null;
}
/**
 * The user's unread count of a booking, on their per-user connections: after they read (on any connection), and
 * when another member's message arrives.
 */
export interface UnreadFrame extends FrameMeta {
  type: "unread";
  booking_id: BookingId;
  unread_count: number;
  last_read_message_id: MessageId | null;
}

/**
 * Whether a booking's chat may be written in, and who blocked whom: what a `chat_state` frame says, and the
 * `chat_state` of a `history` answer.
 */
export interface ChatStateView {
  /** Whether members may write (send, edit, react, type); history stays readable either way. */
  writable: boolean;
  /** Why the chat is read-only; `null` while it is writable. */
  closed: ChatClosure | null;
  /** When an ended booking's chat becomes (or became) read-only, epoch ms; `null` if it is not to. */
  read_only_at: number | null;
  /** Who blocked whom in this booking (a blocked member cannot write; the blocker still can). */
  blocks: ChatBlock[];
}
/** Why a chat is read-only. */
export interface ChatClosure {
  /** `ended`: the booking was cancelled or completed and its grace period is over; `moderator`: the operator closed it. */
  reason: "ended" | "moderator" | (string & {});
  /** Since when, epoch ms. */
  at: number;
  /** The operator's note to the members. */
  note: string | null;
}
/** One member's block of the other. */
export interface ChatBlock {
  user_id: string;
  blocked_user_id: string;
  /** Epoch ms. */
  at: number;
}
/**
 * The booking's chat state changed (a block, an unblock, the operator closing or reopening it, the booking
 * ending): to every connection of the booking; the caller's copy of the answer to `block` or `unblock` names its
 * request.
 */
export interface ChatStateFrame extends FrameMeta, ChatStateView {
  type: "chat_state";
  booking_id: BookingId;
}
/** The answer to `report`, to the reporter only. */
export interface ReportReceivedFrame extends FrameMeta {
  type: "report_received";
  booking_id: BookingId;
  /** The report's id, for the member's reference. */
  report_id: string;
}

/** The answer to `upload_attachment`, to the sender: the attachment (`pending`) and the form to upload it with. */
export interface UploadFrame extends FrameMeta {
  type: "upload";
  booking_id: BookingId;
  attachment: Attachment;
  upload: UploadForm;
}
/**
 * The server finished checking an upload (`ready`, or `rejected` with its `reason`): to the uploader's chat
 * connections. Also the answer to `get_attachment`, to the sender, in any state (`pending` too).
 */
export interface AttachmentFrame extends FrameMeta {
  type: "attachment";
  booking_id: BookingId;
  attachment: Attachment;
}
/** Which file of an attachment: the one sent (`original`, metadata stripped) or the timeline's `thumbnail`. */
export type AttachmentVariant = "thumbnail" | "original";
/** The answer to `attachment_url`: a signed URL of one variant of an attachment, valid until `expires_at` (epoch ms). */
export interface AttachmentUrlFrame extends FrameMeta {
  type: "attachment_url";
  booking_id: BookingId;
  attachment_id: string;
  variant: AttachmentVariant | (string & {});
  url: string;
  expires_at: number;
}

/** Where a search looks: the connection's booking (`booking`, the default) or every booking of the user (`all`). */
export type SearchScope = "booking" | "all";
/** One message matching a search. */
export interface SearchResult {
  booking_id: BookingId;
  message_id: MessageId;
  sender_id: string;
  /** Epoch milliseconds. */
  created_at: number;
  /** Up to about 160 characters of the body around the first match, `…` where cut. Plain text, never HTML. */
  snippet: string;
}
/** The answer to `search`, to the sender only: the matching messages (every word of the query in each), newest first. */
export interface SearchResultsFrame extends FrameMeta {
  type: "search_results";
  booking_id: BookingId;
  /** The query as searched (trimmed). */
  query: string;
  scope: SearchScope | (string & {});
  results: SearchResult[];
  /** More results exist, older than the last of these. */
  has_more: boolean;
  /** Opaque: the `before` of the next page; `null` when there is none. */
  next: string | null;
}

/** On a per-user connection: the user became a member of a booking, or stopped being one. */
export interface MembershipFrame extends FrameMeta {
  type: "membership";
  booking_id: BookingId;
  user_id: string;
  member: boolean;
}

/** Every frame a server sends. */
export type ServerFrame =
  | MessageFrame
  | HistoryFrame
  | ReactionFrame
  | ReceiptFrame
  | TypingFrame
  | PongFrame
  | BookingStatusFrame
  | ErrorFrame
  | SessionFrame
  | MessageUpdatedFrame
  | PresenceFrame
  | UnreadFrame
  | MembershipFrame
  | ChatStateFrame
  | ReportReceivedFrame
  | UploadFrame
  | AttachmentFrame
  | AttachmentUrlFrame
  | SearchResultsFrame;
export type ServerFrameType = ServerFrame["type"];

/** What each client action carries in `data`. */
export interface ClientActions {
  /** `body` may be empty when `attachments` (ids of the sender's `ready` attachments, at most 10) are given. */
  send_message: { body: string; client_message_id?: string; attachments?: string[] };
  react: { message_id: MessageId; emoji: string };
  read: { message_id: MessageId };
  typing: { is_typing: boolean };
  /**
   * The latest page (no field), newer (`after_message_id`) or older (`before_message_id`) messages, or a resume:
   * every message from `from_message_id` on changed since `changed_since` (a `synced_at`), both or neither.
   */
  sync: {
    after_message_id?: MessageId;
    before_message_id?: MessageId;
    from_message_id?: MessageId;
    changed_since?: number;
    limit?: number;
  };
  ping: Record<never, never>;
  /** Replace the token of this connection. */
  refresh: { token: string };
  /** Ask for a `session` frame. */
  session: Record<never, never>;
  /** Replace the text of one of the user's own messages, within the server's edit window. */
  edit_message: { message_id: MessageId; body: string };
  /** Delete one of the user's own messages, within the server's edit window; it becomes a tombstone. */
  delete_message: { message_id: MessageId };
  /** Block the other member of the booking; answered with `chat_state`. */
  block: Record<never, never>;
  /** Lift the user's block of the other member; answered with `chat_state`. */
  unblock: Record<never, never>;
  /**
   * Report a message (`message_id`) or the other member (without) to the marketplace; `details` at most
   * `MAX_REPORT_DETAILS_CHARS` characters. Answered with `report_received`.
   */
  report: { reason: ReportReason; message_id?: MessageId; details?: string };
  /** Ask to upload one file (what it claims to be); answered with `upload`, or `PAYLOAD_TOO_LARGE`, `VALIDATION_ERROR`. */
  upload_attachment: { name: string; content_type: string; size: number };
  /** Ask for a signed URL of an attachment; answered with `attachment_url`. */
  attachment_url: { attachment_id: string; variant: AttachmentVariant };
  /**
   * Ask how an attachment is now (the sender's own, or one on a message); answered with `attachment`, the frame
   * of the verdict's push, or `NOT_FOUND`. For a verdict whose push was lost (a dropped connection).
   */
  get_attachment: { attachment_id: string };
  /**
   * Full-text search (issue 26): `query` trimmed 1 to 200 characters with a letter or digit (else
   * `VALIDATION_ERROR`), `scope` (default `booking`), `before` (an earlier answer's `next`), `limit` 1 to 50 (default
   * 20). Answered with `search_results`.
   */
  search: { query: string; scope?: SearchScope; before?: string; limit?: number };
}

/** Why a member reports a message or a member, in the order a UI offers them. */
export const REPORT_REASONS = ["spam", "scam", "harassment", "off_platform", "inappropriate", "other"] as const;
export type ReportReason = (typeof REPORT_REASONS)[number];
/** Longest `details` of a report, in characters. */
export const MAX_REPORT_DETAILS_CHARS = 1000;
export type ClientAction = keyof ClientActions;

/** A frame a client sends. */
export type ClientFrame = {
  [A in ClientAction]: { action: A; data?: ClientActions[A]; request_id?: string | number };
}[ClientAction];

// ---- Shapes: the same fields as data, for validation at run time and against the fixture. ----

/** How a field is typed. A leading `?` makes it optional (absent or null allowed). */
type Kind =
  | "int"
  | "str"
  | "bool"
  | "str|null"
  | "int|null"
  | "message"
  | "messages"
  | "reactions"
  | "error"
  | "strs"
  | "reads"
  | "presences"
  | "state"
  | "closure"
  | "closure|null"
  | "blocks"
  | "moderation"
  | "attachment"
  | "attachments"
  | "form"
  | "fields"
  | "results";
type FieldSpec = Kind | `?${Kind}`;
type Shape = Readonly<Record<string, FieldSpec>>;

const MESSAGE_SHAPE = {
  id: "int",
  booking_id: "int",
  sender_id: "str",
  body: "str",
  client_message_id: "str|null",
  created_at: "int",
  reactions: "reactions",
  // Optional here only so that a server from before editing (which sends neither) is still understood;
  // `parseServerFrame` fills them in, so `ChatMessage` always has them. The wire crate always sends both.
  edited_at: "?int|null",
  deleted: "?bool",
  moderation: "?moderation",
  attachments: "?attachments",
} as const satisfies Shape;
const ATTACHMENT_SHAPE = {
  id: "str",
  name: "str",
  content_type: "str",
  size: "int",
  status: "str",
  width: "?int",
  height: "?int",
  thumbnail: "?bool",
  reason: "?str",
} as const satisfies Shape;
const RESULT_SHAPE = { booking_id: "int", message_id: "int", sender_id: "str", created_at: "int", snippet: "str" } as const satisfies Shape;
const FORM_SHAPE = { url: "str", method: "str", fields: "fields", expires_at: "int" } as const satisfies Shape;
const REACTION_SHAPE = { emoji: "str", count: "int", user_ids: "strs" } as const satisfies Shape;
const READ_SHAPE = { user_id: "str", last_read_message_id: "int" } as const satisfies Shape;
const PRESENCE_SHAPE = { user_id: "str", online: "bool", last_seen_at: "int|null" } as const satisfies Shape;
const ERROR_SHAPE = { code: "str", message: "str" } as const satisfies Shape;
const META_SHAPE = { request_id: "?str", timestamp: "int" } as const satisfies Shape;
const MODERATION_SHAPE = { reason: "str", at: "int" } as const satisfies Shape;
const CLOSURE_SHAPE = { reason: "str", at: "int", note: "str|null" } as const satisfies Shape;
const BLOCK_SHAPE = { user_id: "str", blocked_user_id: "str", at: "int" } as const satisfies Shape;
const STATE_SHAPE = { writable: "bool", closed: "closure|null", read_only_at: "int|null", blocks: "blocks" } as const satisfies Shape;

/** The server frames the wire crate defines today (`ServerPayload`). */
export const SERVER_SHAPES = {
  message: { booking_id: "int", message: "message", masked: "?strs" },
  history: {
    booking_id: "int",
    messages: "messages",
    has_more: "bool",
    read_positions: "?reads",
    presence: "?presences",
    synced_at: "?int",
    chat_state: "?state",
  },
  reaction: {
    booking_id: "int",
    message_id: "int",
    user_id: "str",
    emoji: "str",
    added: "bool",
    reactions: "reactions",
  },
  receipt: { booking_id: "int", user_id: "str", last_read_message_id: "int" },
  typing: { booking_id: "int", user_id: "str", is_typing: "bool" },
  pong: { booking_id: "?int" },
  booking_status: { booking_id: "int", status: "str", previous_status: "str", changed_by: "str" },
  error: { error: "error", booking_id: "?int" },
  session: { user_id: "str", expires_at: "int", closes_at: "int", booking_id: "?int" },
  message_updated: { booking_id: "int", message: "message", masked: "?strs" },
  presence: { booking_id: "int", user_id: "str", online: "bool", last_seen_at: "int|null" },
  unread: { booking_id: "int", unread_count: "int", last_read_message_id: "int|null" },
  membership: { booking_id: "int", user_id: "str", member: "bool" },
  chat_state: { booking_id: "int", ...STATE_SHAPE },
  report_received: { booking_id: "int", report_id: "str" },
  upload: { booking_id: "int", attachment: "attachment", upload: "form" },
  attachment: { booking_id: "int", attachment: "attachment" },
  attachment_url: { booking_id: "int", attachment_id: "str", variant: "str", url: "str", expires_at: "int" },
  search_results: { booking_id: "int", query: "str", scope: "str", results: "results", has_more: "bool", next: "str|null" },
} as const satisfies Record<string, Shape>;

/** Server frames drafted for an issue: typed and handled, not in the wire crate yet (none today). */
export const DRAFT_SERVER_SHAPES = {
} as const satisfies Record<string, Shape>;

/** The client actions the wire crate defines today (`ClientAction`). */
export const CLIENT_SHAPES = {
  send_message: { body: "str", client_message_id: "?str", attachments: "?strs" },
  react: { message_id: "int", emoji: "str" },
  read: { message_id: "int" },
  typing: { is_typing: "bool" },
  sync: { after_message_id: "?int", before_message_id: "?int", from_message_id: "?int", changed_since: "?int", limit: "?int" },
  ping: {},
  refresh: { token: "str" },
  session: {},
  edit_message: { message_id: "int", body: "str" },
  delete_message: { message_id: "int" },
  block: {},
  unblock: {},
  report: { reason: "str", message_id: "?int", details: "?str" },
  upload_attachment: { name: "str", content_type: "str", size: "int" },
  attachment_url: { attachment_id: "str", variant: "str" },
  get_attachment: { attachment_id: "str" },
  search: { query: "str", scope: "?str", before: "?str", limit: "?int" },
} as const satisfies Record<string, Shape>;

/** Client actions drafted for an issue (none today). */
export const DRAFT_CLIENT_SHAPES = {
} as const satisfies Record<string, Shape>;

// Compile-time: each hand-written type names exactly the keys of its shape, so neither can gain or lose a
// field alone.
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
type Fields<T extends ServerFrameType> = Exclude<keyof Extract<ServerFrame, { type: T }>, "type" | keyof FrameMeta>;
type AllShapes = typeof SERVER_SHAPES & typeof DRAFT_SERVER_SHAPES;
type ClientShapes = typeof CLIENT_SHAPES & typeof DRAFT_CLIENT_SHAPES;
const serverKeysMatch: { [T in ServerFrameType]: Same<Fields<T>, keyof AllShapes[T]> } = {
  message: true,
  history: true,
  reaction: true,
  receipt: true,
  typing: true,
  pong: true,
  booking_status: true,
  error: true,
  session: true,
  message_updated: true,
  presence: true,
  unread: true,
  membership: true,
  chat_state: true,
  report_received: true,
  upload: true,
  attachment: true,
  attachment_url: true,
  search_results: true,
};
const clientKeysMatch: { [A in ClientAction]: Same<keyof ClientActions[A], keyof ClientShapes[A]> } = {
  send_message: true,
  react: true,
  read: true,
  typing: true,
  sync: true,
  ping: true,
  refresh: true,
  session: true,
  edit_message: true,
  delete_message: true,
  block: true,
  unblock: true,
  report: true,
  upload_attachment: true,
  attachment_url: true,
  get_attachment: true,
  search: true,
};
const nestedKeysMatch: [
  Same<keyof ChatMessage, keyof typeof MESSAGE_SHAPE>,
  Same<keyof ReactionSummary, keyof typeof REACTION_SHAPE>,
  Same<keyof ErrorBody, keyof typeof ERROR_SHAPE>,
  Same<keyof ReadPosition, keyof typeof READ_SHAPE>,
  Same<keyof MemberPresence, keyof typeof PRESENCE_SHAPE>,
  Same<keyof Moderation, keyof typeof MODERATION_SHAPE>,
  Same<keyof ChatClosure, keyof typeof CLOSURE_SHAPE>,
  Same<keyof ChatBlock, keyof typeof BLOCK_SHAPE>,
  Same<keyof ChatStateView, keyof typeof STATE_SHAPE>,
  Same<keyof Attachment, keyof typeof ATTACHMENT_SHAPE>,
  Same<keyof UploadForm, keyof typeof FORM_SHAPE>,
  Same<keyof SearchResult, keyof typeof RESULT_SHAPE>,
] = [true, true, true, true, true, true, true, true, true, true, true, true];
void serverKeysMatch;
void clientKeysMatch;
void nestedKeysMatch;

/** How strictly to check. The client is lenient (a newer server may add fields); the fixture test is not. */
export interface CheckOptions {
  /** Refuse fields the shape does not name, unknown error codes, and the draft kinds. */
  strict?: boolean;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

/** What strict checking adds to each object checked (unknown fields, error codes); absent when lenient. */
type Strict = ((shape: Shape, value: Record<string, unknown>, path: string) => string | undefined) | undefined;

/** Why `value` is not of `kind` (`"path: expected kind"`), or `undefined`. */
function checkKind(kind: Kind, value: unknown, path: string, strict: Strict): string | undefined {
  const expected = `${path}: expected ${kind}`;
  switch (kind) {
    case "int":
      return Number.isInteger(value) ? undefined : expected;
    case "str":
      return typeof value === "string" ? undefined : expected;
    case "bool":
      return typeof value === "boolean" ? undefined : expected;
    case "str|null":
    case "int|null":
    case "closure|null":
      return value === null ? undefined : checkKind(kind.slice(0, -5) as Kind, value, path, strict);
    case "strs":
      return Array.isArray(value) ? value.map((v, i) => checkKind("str", v, `${path}[${i}]`, strict)).find(Boolean) : expected;
    case "message":
      return checkShape(MESSAGE_SHAPE, value, path, strict);
    case "fields":
      // A form's fields: any names, each a string (their order is the object's).
      return isObject(value) ? Object.keys(value).map((k) => checkKind("str", value[k], `${path}.${k}`, strict)).find(Boolean) : expected;
    case "error":
    case "moderation":
    case "state":
    case "closure":
    case "attachment":
    case "form":
      return checkShape(OBJECTS[kind], value, path, strict);
    default:
      // A list of objects.
      return Array.isArray(value) ? value.map((v, i) => checkShape(LISTS[kind], v, `${path}[${i}]`, strict)).find(Boolean) : expected;
  }
}

const LISTS = { messages: MESSAGE_SHAPE, reactions: REACTION_SHAPE, reads: READ_SHAPE, presences: PRESENCE_SHAPE, blocks: BLOCK_SHAPE, attachments: ATTACHMENT_SHAPE, results: RESULT_SHAPE };
const OBJECTS = { error: ERROR_SHAPE, moderation: MODERATION_SHAPE, state: STATE_SHAPE, closure: CLOSURE_SHAPE, attachment: ATTACHMENT_SHAPE, form: FORM_SHAPE };

function checkShape(shape: Shape, value: unknown, path: string, strict: Strict): string | undefined {
  if (!isObject(value)) return `${path}: expected an object`;
  for (const [key, spec] of Object.entries(shape)) {
    const optional = spec.startsWith("?");
    const field = value[key];
    if (field === undefined || (optional && field === null)) {
      if (optional) continue;
      return `${path}.${key}: missing`;
    }
    const problem = checkKind((optional ? spec.slice(1) : spec) as Kind, field, `${path}.${key}`, strict);
    if (problem) return problem;
  }
  return strict?.(shape, value, path);
}

/** Strict checking: no field the shape does not name, no error code this client does not know. */
const strictly: Strict = (shape, value, path) => {
  const unknown = Object.keys(value).find((key) => !(key in shape));
  if (unknown) return `${path}.${unknown}: unknown field`;
  if (shape === ERROR_SHAPE && !(ERROR_CODES as readonly unknown[]).includes(value.code)) {
    return `${path}.code: unknown error code ${JSON.stringify(value.code)}`;
  }
  return undefined;
};

function lookup<T extends object>(table: T, key: unknown): T[keyof T] | undefined {
  return typeof key === "string" && Object.prototype.hasOwnProperty.call(table, key) ? table[key as keyof T] : undefined;
}

/**
 * Why `value` is not a server frame, or `undefined` when it is one.
 * Lenient by default: unknown fields are allowed. `strict` refuses them, unknown error codes, and draft kinds.
 */
export function checkServerFrame(value: unknown, options: CheckOptions = {}): string | undefined {
  const strict = options.strict ? strictly : undefined;
  if (!isObject(value)) return "frame: expected an object";
  const shape: Shape | undefined =
    lookup(SERVER_SHAPES, value.type) ?? (strict ? undefined : lookup(DRAFT_SERVER_SHAPES, value.type));
  if (!shape) return `frame.type: unknown type ${JSON.stringify(value.type)}`;
  return checkShape({ type: "str", ...META_SHAPE, ...shape }, value, `${String(value.type)}`, strict);
}

/** Why `value` is not a client frame, or `undefined` when it is one. As strict as `checkServerFrame`. */
export function checkClientFrame(value: unknown, options: CheckOptions = {}): string | undefined {
  const strict = options.strict ? strictly : undefined;
  if (!isObject(value)) return "frame: expected an object";
  const shape: Shape | undefined =
    lookup(CLIENT_SHAPES, value.action) ?? (strict ? undefined : lookup(DRAFT_CLIENT_SHAPES, value.action));
  if (!shape) return `frame.action: unknown action ${JSON.stringify(value.action)}`;
  const name = String(value.action);
  const id = value.request_id;
  if (!(id === undefined || id === null || Number.isInteger(id) || (typeof id === "string" && [...id].length <= 128))) {
    return `${name}.request_id: expected an integer or a string of at most 128 characters`;
  }
  if (strict) {
    const unknown = Object.keys(value).find((key) => !["action", "data", "request_id"].includes(key));
    if (unknown) return `${name}.${unknown}: unknown field`;
  }
  return checkShape(shape, value.data ?? {}, `${name}.data`, strict);
}

/**
 * Parses a text frame from the server; `undefined` for anything that is not a frame this client knows (checked
 * leniently, as `checkServerFrame` does without `strict`: a newer server may add fields).
 */
export function parseServerFrame(text: string): ServerFrame | undefined {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (!isObject(value)) return undefined;
  const shape: Shape | undefined = lookup(SERVER_SHAPES, value.type) ?? lookup(DRAFT_SERVER_SHAPES, value.type);
  if (!shape || checkShape({ type: "str", ...META_SHAPE, ...shape }, value, "", undefined)) return undefined;
  const messages = Array.isArray(value.messages) ? value.messages : isObject(value.message) ? [value.message] : [];
  for (const m of messages as Record<string, unknown>[]) {
    // A server from before editing: never edited, not deleted.
    m.edited_at ??= null;
    m.deleted ??= false;
  }
  return value as unknown as ServerFrame;
}
