//! The elements' attributes and settable properties as types, shared by the framework typings (`react/jsx.ts`,
//! `vue.ts`); `custom-elements.json` lists the same, and a test keeps the three equal.

import type { TokenProvider } from "../client/client.js";
import type { InboxStrings } from "./inbox.js";
import type { PersonResolver } from "./people.js";
import type { ChatStrings } from "./strings.js";

/** The attributes of `<booking-chat>`. */
export interface BookingChatAttributes {
  "ws-url"?: string;
  booking?: number | string;
  "token-url"?: string;
  "api-url"?: string;
  user?: string;
  heading?: string;
  /** JSON: `{"u-17": {"name": "Ann", "avatar": "/ann.png"}}`. */
  people?: string;
  /** Seconds after sending during which the server allows edits and deletes (default 900; 0: none). */
  "edit-window"?: number | string;
  /** The largest file the composer takes, in bytes: the server's `ATTACHMENTS_MAX_BYTES` (default 10485760, 10 MiB). */
  "max-attachment-bytes"?: number | string;
  theme?: "light" | "dark";
}

/** The properties of `<booking-chat>` an app sets. */
export interface BookingChatProperties {
  tokenProvider?: TokenProvider;
  resolveUser?: PersonResolver;
  strings?: Partial<ChatStrings>;
}

/** The attributes of `<booking-inbox>`. */
export interface BookingInboxAttributes {
  "ws-url"?: string;
  "api-url"?: string;
  "token-url"?: string;
  heading?: string;
  /** The open booking's id, marked as current. */
  selected?: number | string;
  people?: string;
  theme?: "light" | "dark";
}

/** The properties of `<booking-inbox>` an app sets. */
export interface BookingInboxProperties {
  tokenProvider?: TokenProvider;
  resolveUser?: PersonResolver;
  strings?: Partial<InboxStrings>;
}
