import { ChatProvider, useConversation, type ChatProviderProps } from "@booking-chat/widget/react";

function Chat({ booking }: { booking: number }) {
  const { messages, send } = useConversation(booking); // live; send() rejects with the server's refusal
  const submit = (form: HTMLFormElement) => { send(form.text.value).catch((e) => alert(e.message)); form.reset(); };
  return <form onSubmit={(e) => { e.preventDefault(); submit(e.currentTarget); }}>
    <ul>{messages.map((m) => <li key={m.key}>{m.sender_id}: {m.body}</li>)}</ul>
    <input name="text" aria-label="Message" />
  </form>;
}
export const BookingChat = ({ booking, ...chat }: ChatProviderProps & { booking: number }) =>
  <ChatProvider {...chat}><Chat booking={booking} /></ChatProvider>;
