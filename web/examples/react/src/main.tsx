// The example app: an inbox (useInbox) and the open booking's conversation, either built with the hooks
// (useConversation, usePresence) or as <booking-chat> in JSX (`?ui=element`); `?page=ten-lines` shows the
// README's ten-line example. Runs against the local stack: /dev/config says where the WebSocket is, /dev/token
// mints the `?user=`'s tokens. In StrictMode, as an app should run in development.
import { StrictMode } from "react";
import { createRoot } from "react-dom/client";
import { App } from "./App";
import { BookingChat } from "./TenLines";

const params = new URLSearchParams(location.search);
const user = params.get("user") ?? "alice";
const config = (await (await fetch("/dev/config")).json()) as { ws_url: string };
/** A token for the page's user (the local stack's development route: never in production). */
const getToken = async () => ((await (await fetch(`/dev/token?user=${user}`)).json()) as { token: string }).token;

createRoot(document.getElementById("root")!).render(
  <StrictMode>
    {params.get("page") === "ten-lines" ? (
      <main>
        <h1>Ten lines</h1>
        <BookingChat url={config.ws_url} token={getToken} booking={Number(params.get("booking") ?? 1)} />
      </main>
    ) : (
      <App url={config.ws_url} user={user} ui={params.get("ui") === "element" ? "element" : "hooks"} />
    )}
  </StrictMode>,
);
