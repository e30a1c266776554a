// The typings a framework user relies on, checked by `tsc` (npm test runs it first): the elements' events in
// HTMLElementEventMap, and the elements in Vue templates (GlobalComponents). The JSX typings are in
// react.test.tsx.

import type { GlobalComponents } from "vue";
import { expectTypeOf, it } from "vitest";
import type { ChatError } from "../../src/client/client.js";
import type { ChatMessage, ChatStateView, ReactionFrame } from "../../src/client/frames.js";
import type { TimelineMessage } from "../../src/client/timeline.js";
import type { InboxBooking } from "../../src/client/user.js";
import "../../src/index.js";
import "../../src/inbox.js";
import type {} from "../../src/vue.js";

it("addEventListener knows every chat-* event's detail", () => {
  const listen = (el: HTMLElement) => {
    el.addEventListener("chat-message", (e) => expectTypeOf(e.detail).toEqualTypeOf<TimelineMessage>());
    el.addEventListener("chat-status", (e) => expectTypeOf(e.detail.state).toBeString());
    el.addEventListener("chat-open", (e) => expectTypeOf(e.detail).toEqualTypeOf<InboxBooking>());
    document.querySelector("booking-chat")?.addEventListener("chat-error", (e) => expectTypeOf(e.detail.error.code).toBeString());
    el.addEventListener("chat-state", (e) => expectTypeOf(e.detail).toEqualTypeOf<ChatStateView>());
  };
  void listen;
});

it("Vue templates know <booking-chat> and <booking-inbox>: their attributes as props, their events", () => {
  type ChatProps = InstanceType<GlobalComponents["booking-chat"]>["$props"];
  type InboxProps = InstanceType<GlobalComponents["booking-inbox"]>["$props"];
  expectTypeOf<ChatProps>().toHaveProperty("ws-url");
  expectTypeOf<ChatProps>().toHaveProperty("edit-window");
  expectTypeOf<ChatProps>().toHaveProperty("tokenProvider");
  expectTypeOf<InboxProps>().toHaveProperty("selected");
  type Emit = InstanceType<GlobalComponents["booking-chat"]>["$emit"];
  expectTypeOf<Emit>().toBeCallableWith("chat-message", {} as CustomEvent<TimelineMessage>);
});

it("actions return promises of the server's answer", () => {
  type Client = import("../../src/client/client.js").ChatClient;
  expectTypeOf<ReturnType<Client["edit"]>>().toEqualTypeOf<Promise<ChatMessage>>();
  expectTypeOf<ReturnType<Client["react"]>>().toEqualTypeOf<Promise<ReactionFrame>>();
  expectTypeOf<ReturnType<Client["block"]>>().toEqualTypeOf<Promise<ChatStateView>>();
  expectTypeOf<ReturnType<Client["report"]>>().toEqualTypeOf<Promise<string>>();
  expectTypeOf<ChatError["code"]>().toBeString();
});
