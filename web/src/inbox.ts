//! `@booking-chat/widget/inbox`: `<booking-inbox>`, defined on import where there is a DOM, and the per-user
//! channel under it (`UserChannel`, also importable alone as `@booking-chat/widget/user`).

import { BookingInboxElement, type BookingInboxEventMap } from "./ui/inbox.js";

export * from "./client/user.js";
export { BookingInboxElement, INBOX_ENGLISH, type BookingInboxEventMap, type InboxStrings } from "./ui/inbox.js";
export type { Person, PersonResolver } from "./ui/people.js";

if (typeof customElements !== "undefined" && !customElements.get("booking-inbox")) {
  customElements.define("booking-inbox", BookingInboxElement);
}

declare global {
  interface HTMLElementTagNameMap {
    "booking-inbox": BookingInboxElement;
  }
  interface HTMLElementEventMap extends BookingInboxEventMap {}
}
