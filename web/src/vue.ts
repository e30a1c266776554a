//! `@booking-chat/widget/vue`: `<booking-chat>` and `<booking-inbox>` in Vue templates, typed (attributes as
//! props, `@chat-*` events with their `detail`). Types only: `import type {} from "@booking-chat/widget/vue"`
//! once (or list it in `compilerOptions.types`), and tell Vue they are custom elements
//! (`compilerOptions.isCustomElement`). Properties are bound with `.prop`: `:tokenProvider.prop="getToken"`.

import type { DefineComponent } from "vue";
import type { BookingChatEventMap } from "./ui/element.js";
import type { BookingInboxEventMap } from "./ui/inbox.js";
import type { BookingChatAttributes, BookingChatProperties, BookingInboxAttributes, BookingInboxProperties } from "./ui/types.js";

/** Vue's typed emits: each event's listener gets the `CustomEvent`. */
type Emits<M> = { [K in keyof M]: (event: M[K]) => void };

// eslint-disable-next-line @typescript-eslint/no-empty-object-type
type Component<Props, M> = DefineComponent<Props, {}, {}, {}, {}, {}, {}, Emits<M>>;

declare module "vue" {
  interface GlobalComponents {
    "booking-chat": Component<BookingChatAttributes & BookingChatProperties, BookingChatEventMap>;
    "booking-inbox": Component<BookingInboxAttributes & BookingInboxProperties, BookingInboxEventMap>;
  }
}

export {};
