import { useEffect, useState, type FormEvent } from "react";
import { ChatProvider, useConversation, useInbox, usePresence } from "@booking-chat/widget/react";
import "@booking-chat/widget";

/** The inbox on one side, the open conversation on the other. */
export function App({ url, user, ui }: { url: string; user: string; ui: "hooks" | "element" }) {
  const [open, setOpen] = useState<number>();
  const [renders, setRenders] = useState(0);
  // A new token function on every render, as inline callbacks are: never a new connection.
  const token = async () => ((await (await fetch(`/dev/token?user=${user}`)).json()) as { token: string }).token;
  return (
    <ChatProvider url={url} apiUrl="/" user={user} token={token}>
      <header>
        <h1>Bookings of {user}</h1>
        <button type="button" onClick={() => setRenders(renders + 1)}>
          Re-render ({renders})
        </button>
      </header>
      <main className="layout">
        <Inbox open={open} onOpen={setOpen} />
        {open === undefined ? (
          <p>Choose a booking.</p>
        ) : ui === "element" ? (
          <booking-chat
            key={open}
            booking={open}
            ws-url={url}
            api-url="/"
            user={user}
            heading={`Booking ${open}`}
            tokenProvider={token}
            resolveUser={(id) => ({ name: id.charAt(0).toUpperCase() + id.slice(1) })}
            onchat-message={(e) => console.log(`chat-message ${e.detail.body}`)}
          />
        ) : (
          <Conversation key={open} bookingId={open} />
        )}
      </main>
    </ChatProvider>
  );
}

function Inbox({ open, onOpen }: { open: number | undefined; onOpen: (id: number) => void }) {
  const { bookings, unreadCount, status } = useInbox();
  return (
    <nav aria-labelledby="inbox-title" className="inbox">
      <h2 id="inbox-title">
        Inbox <span data-total={unreadCount}>{unreadCount > 0 ? `(${unreadCount} unread)` : ""}</span>
      </h2>
      <p role="status">{status.state === "online" ? "" : "Connecting…"}</p>
      <ul>
        {bookings.map((b) => (
          <li key={b.booking_id}>
            <button type="button" data-booking={b.booking_id} aria-current={open === b.booking_id} onClick={() => onOpen(b.booking_id)}>
              <strong>{b.title}</strong> with {b.other_user_id}
              <span className="last"> {b.last_message ? (b.last_message.deleted ? "Message deleted" : b.last_message.body) : "No messages yet"}</span>
              {b.unread_count > 0 && <span className="unread" data-unread={b.unread_count}> · {b.unread_count} unread</span>}
            </button>
          </li>
        ))}
      </ul>
    </nav>
  );
}

function Conversation({ bookingId }: { bookingId: number }) {
  const { messages, status, typingUsers, send, markRead, typing } = useConversation(bookingId);
  const presence = usePresence(bookingId);
  const [error, setError] = useState("");
  // What is on screen is read.
  const newest = messages.findLast((m) => !m.mine && m.id !== undefined)?.id;
  useEffect(() => {
    if (newest !== undefined && status.state === "online") markRead(newest).catch(() => {});
  }, [newest, status.state, markRead]);
  const submit = (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    const form = event.currentTarget;
    const text = (form.elements.namedItem("text") as HTMLInputElement).value;
    send(text).then(() => setError(""), (e: Error) => setError(e.message));
    form.reset();
  };
  return (
    <section aria-labelledby="conversation-title" className="conversation">
      <h2 id="conversation-title">Booking {bookingId}</h2>
      <p className="presence">{presence.map((p) => `${p.user_id} is ${p.online ? "online" : "away"}`).join(" · ")}</p>
      <p role="status" data-state={status.state}>
        {status.state}
      </p>
      <ol aria-label="Messages">
        {messages.map((m) => (
          <li key={m.key} data-state={m.state} className={m.mine ? "mine" : ""}>
            <b>{m.mine ? "You" : m.sender_id}</b>: {m.deleted ? <i>Message deleted</i> : m.body}
          </li>
        ))}
      </ol>
      <p aria-live="polite">{typingUsers.length ? `${typingUsers.join(", ")} is typing…` : ""}</p>
      <form onSubmit={submit}>
        <input name="text" aria-label="Message" autoComplete="off" onChange={() => typing()} />
        <button type="submit">Send</button>
      </form>
      {error && <p role="alert">{error}</p>}
    </section>
  );
}
