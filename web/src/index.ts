//! The package: the headless client and the `<booking-chat>` element, defined on import.
//!
//! # Layout
//! - `client/`: `ChatClient` and its ports (transport, outbox storage, network); no UI. Also importable alone
//!   as `@booking-chat/widget/client`.
//! - `ui/`: the custom element (`element.ts`), its words (`strings.ts`), its style sheet (`styles.ts`), display
//!   names (`people.ts`), and `<booking-inbox>` (`inbox.ts`, its own entry: `inbox.ts` beside this file).
//! - `frames.ts`, `inbox.ts`, `react/`: the other entries (`/frames`, `/inbox`, `/react`).
//! - `push.ts` (`/push`) and `sw.ts` (the service worker, `dist/booking-chat-sw.js`): Web Push, which nothing
//!   here imports, so that the element's bundle does not carry it.

import { BookingChatElement, type BookingChatEventMap } from "./ui/element.js";

export * from "./client/index.js";
export * from "./client/attachments.js";
export { BookingChatElement, type BookingChatEventMap } from "./ui/element.js";
export type { Person, PersonResolver } from "./ui/people.js";
export { tokenFromUrl } from "./ui/dom.js";
export { ENGLISH, type ChatStrings } from "./ui/strings.js";

if (typeof customElements !== "undefined" && !customElements.get("booking-chat")) {
  customElements.define("booking-chat", BookingChatElement);
}

declare global {
  interface HTMLElementTagNameMap {
    "booking-chat": BookingChatElement;
  }
  // `addEventListener("chat-message", (e) => e.detail.body)` is typed on every element (the events bubble).
  interface HTMLElementEventMap extends BookingChatEventMap {}
}
