// The React entry without a DOM: the provider's store keeps one connection through StrictMode's mount, unmount
// and mount and through re-renders with a new token function; a server renders the hooks (no socket, no DOM);
// and the elements are typed in JSX (checked by `tsc`, rendered here by react-dom/server).

import { createElement, StrictMode } from "react";
import { renderToString } from "react-dom/server";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { SocketFactory } from "../../src/client/transport.js";
import { ChatProvider, ChatStore, useConversation, useInbox, usePresence } from "../../src/react/index.js";
import { jwt, ScriptedNetwork, ScriptedSocket, tick } from "./scripted.js";

beforeEach(() => {
  vi.useFakeTimers({ now: new Date("2026-11-22T10:00:00Z") });
});
afterEach(() => {
  vi.useRealTimers();
});

function scripted() {
  const sockets: ScriptedSocket[] = [];
  const socket: SocketFactory = (url, protocols, handlers) => {
    const s = new ScriptedSocket(url, protocols, handlers);
    sockets.push(s);
    return s;
  };
  return { sockets, clientOptions: { socket, network: new ScriptedNetwork(), random: () => 0.5 } };
}

describe("the provider's store", () => {
  it("keeps one connection through StrictMode's mount, unmount and mount (the effects in React's order)", async () => {
    const { sockets, clientOptions } = scripted();
    const store = new ChatStore({ url: "wss://chat.example/prod", token: async () => jwt("alice"), clientOptions });
    // Mount: the child's effect, then the provider's; StrictMode's unmount: both cleanups; mount again.
    let release = store.holdChat(1);
    let unmount = store.mount();
    release();
    unmount();
    release = store.holdChat(1);
    unmount = store.mount();
    await tick(5_000);
    expect(sockets.length).toBe(1);
    expect(sockets[0]!.closed).toBeUndefined();
    expect(store.chat(1).status.state).toBe("connecting");
    // Unmounted for good: closed a moment later.
    release();
    unmount();
    await tick(1_000);
    expect(sockets[0]!.closed?.byClient).toBe(true);
  });

  it("a new token function on every render is used by the next connection, and is not a new connection", async () => {
    const { sockets, clientOptions } = scripted();
    const calls: string[] = [];
    const props = (who: string) => ({ url: "wss://chat.example/prod", token: async () => (calls.push(who), jwt("alice")), clientOptions });
    const store = new ChatStore(props("first"));
    const release = store.holdChat(1);
    await tick();
    for (const who of ["second", "third"]) store.update(props(who));
    expect(sockets.length).toBe(1);
    sockets[0]!.drop();
    await tick(1_000);
    expect(sockets.length).toBe(2);
    expect(calls).toEqual(["first", "third"]);
    release();
  });

  it("two components of one booking share one client; the inbox has its own user connection", async () => {
    const { sockets, clientOptions } = scripted();
    const store = new ChatStore({ url: "wss://chat.example/prod", token: async () => jwt("alice"), clientOptions });
    const a = store.holdChat(7);
    const b = store.holdChat(7);
    const c = store.holdChannel();
    await tick();
    expect(sockets.map((s) => s.url).sort()).toEqual(["wss://chat.example/prod?booking_id=7", "wss://chat.example/prod?type=user"]);
    a();
    await tick(2_000);
    expect(sockets.map((s) => s.closed)).toEqual([undefined, undefined]);
    b();
    c();
    await tick(1_000);
    expect(sockets.every((s) => s.closed?.byClient)).toBe(true);
  });
});

describe("on a server", () => {
  it("renders the hooks without a DOM and without connecting", () => {
    const { sockets, clientOptions } = scripted();
    function Chat() {
      const { messages, status } = useConversation(1);
      const presence = usePresence(1);
      const { bookings } = useInbox();
      return <p>{`${status.state} ${messages.length} ${presence.length} ${bookings.length}`}</p>;
    }
    const html = renderToString(
      <StrictMode>
        <ChatProvider url="wss://chat.example/prod" token={async () => null} clientOptions={clientOptions}>
          <Chat />
        </ChatProvider>
      </StrictMode>,
    );
    expect(html).toBe("<p>idle 0 0 0</p>");
    expect(sockets).toEqual([]);
  });

  it("useConversation has the chat state (writable before the server says more) and block, unblock, report bound", () => {
    const { clientOptions } = scripted();
    let actions: unknown[] = [];
    function Chat() {
      const { chatState, block, unblock, report } = useConversation(1);
      actions = [block, unblock, report];
      return <p>{`${chatState.writable} ${chatState.blocks.length}`}</p>;
    }
    const html = renderToString(
      <ChatProvider url="wss://chat.example/prod" token={async () => null} clientOptions={clientOptions}>
        <Chat />
      </ChatProvider>,
    );
    expect(html).toBe("<p>true 0</p>");
    expect(actions.every((a) => typeof a === "function")).toBe(true);
  });

  it("useConversation has search and loadUntil bound to the booking's client (not connected on a server: refused)", async () => {
    const { clientOptions } = scripted();
    let found: Pick<ReturnType<typeof useConversation>, "search" | "loadUntil"> | undefined;
    function Chat() {
      found = useConversation(1);
      return null;
    }
    renderToString(
      <ChatProvider url="wss://chat.example/prod" token={async () => null} clientOptions={clientOptions}>
        <Chat />
      </ChatProvider>,
    );
    // Called detached from the client: an unbound method would throw a TypeError reading its private fields.
    const { search, loadUntil } = found!;
    await expect(search("canoe")).rejects.toMatchObject({ code: "NOT_CONNECTED" });
    await expect(loadUntil(5)).rejects.toMatchObject({ code: "NOT_FOUND" });
  });

  it("a hook outside a provider says what is missing", () => {
    function Lost() {
      useConversation(1);
      return null;
    }
    expect(() => renderToString(createElement(Lost))).toThrow(/ChatProvider/);
  });
});

describe("JSX typings of the elements", () => {
  it("<booking-chat> and <booking-inbox> take their attributes, properties and typed on<event> props", () => {
    const html = renderToString(
      <>
        <booking-chat
          booking={42}
          ws-url="wss://chat.example/prod"
          heading="Your host"
          edit-window={600}
          people='{"bob": {"name": "Bob"}}'
          tokenProvider={async () => "token"}
          resolveUser={(id) => ({ name: id.toUpperCase() })}
          onchat-message={(event) => void event.detail.body.toUpperCase()}
          onchat-status={(event) => void event.detail.state}
        />
        <booking-inbox ws-url="wss://chat.example/prod" api-url="/" selected={42} onchat-open={(event) => void event.detail.booking_id.toFixed()} />
      </>,
    );
    expect(html).toContain('ws-url="wss://chat.example/prod"');
    expect(html).toContain('edit-window="600"');
    expect(html).not.toContain("tokenProvider");
    // @ts-expect-error an attribute the element does not have
    void (<booking-chat bookng={1} />);
    // @ts-expect-error the detail of chat-message is a message, not a status
    void (<booking-chat onchat-message={(event: CustomEvent<{ unread_count: number }>) => event.detail.unread_count} />);
  });
});
