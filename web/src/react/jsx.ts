//! `<booking-chat>` and `<booking-inbox>` in JSX (React 19, which sets properties and listens to custom
//! events on custom elements): their attributes, properties and `on<event>` props, typed. Imported by the React
//! entry, so that `import "@booking-chat/widget/react"` (or a type-only import of it) types them.

import type { DetailedHTMLProps, HTMLAttributes } from "react";
import type { BookingChatElement, BookingChatEventMap } from "../ui/element.js";
import type { BookingInboxElement, BookingInboxEventMap } from "../ui/inbox.js";
import type { BookingChatAttributes, BookingChatProperties, BookingInboxAttributes, BookingInboxProperties } from "../ui/types.js";

/** `on<event>` props: React 19 adds the listener for `<event>` (`onchat-message` for `chat-message`). */
type EventProps<M> = { [K in keyof M as `on${K & string}`]?: (event: M[K]) => void };

/** The props of `<booking-chat>` in JSX. */
export type JsxBookingChat = DetailedHTMLProps<HTMLAttributes<BookingChatElement>, BookingChatElement> &
  BookingChatAttributes &
  BookingChatProperties &
  EventProps<BookingChatEventMap>;

/** The props of `<booking-inbox>` in JSX. */
export type JsxBookingInbox = DetailedHTMLProps<HTMLAttributes<BookingInboxElement>, BookingInboxElement> &
  BookingInboxAttributes &
  BookingInboxProperties &
  EventProps<BookingInboxEventMap>;

declare module "react" {
  // eslint-disable-next-line @typescript-eslint/no-namespace
  namespace JSX {
    interface IntrinsicElements {
      "booking-chat": JsxBookingChat;
      "booking-inbox": JsxBookingInbox;
    }
  }
}
