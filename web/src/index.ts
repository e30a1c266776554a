//! The package: the headless client and the `<booking-chat>` element, defined on import.
//!
//! # Layout
//! - `client/`: `ChatClient` and its ports (transport, outbox storage, network); no UI. Also importable alone
//!   as `@booking-chat/widget/client`.
//! - `ui/`: the custom element (`element.ts`), its words (`strings.ts`) and its style sheet (`styles.ts`).

import { BookingChatElement } from "./ui/element.js";

export * from "./client/index.js";
export { BookingChatElement, tokenFromUrl } from "./ui/element.js";
export { ENGLISH, type ChatStrings } from "./ui/strings.js";

if (typeof customElements !== "undefined" && !customElements.get("booking-chat")) {
  customElements.define("booking-chat", BookingChatElement);
}

declare global {
  interface HTMLElementTagNameMap {
    "booking-chat": BookingChatElement;
  }
}
