// Points the demo's widgets at the local stack: /dev/config says where the WebSocket is (the API Gateway
// emulator under `make dev`, else the backend's direct WebSocket); `?booking=` picks the booking. The page
// may load while the stack is down (a restart): it uses what it learnt before (sessionStorage), or asks again
// until the stack answers.
const booking = new URLSearchParams(location.search).get("booking") || "1";
document.getElementById("booking").textContent = booking;

async function config() {
  const cached = sessionStorage.getItem("booking-chat-demo-config");
  if (cached) return JSON.parse(cached);
  for (let delay = 500; ; delay = Math.min(delay * 2, 5000)) {
    try {
      const response = await fetch("/dev/config");
      if (response.ok) {
        const json = await response.json();
        sessionStorage.setItem("booking-chat-demo-config", JSON.stringify(json));
        return json;
      }
    } catch {
      // The stack is not up yet.
    }
    await new Promise((resolve) => setTimeout(resolve, delay));
  }
}

const { style, ws_url: wsUrl } = await config();
const url = style === "api_gateway" && wsUrl
  ? wsUrl
  : `${location.protocol === "https:" ? "wss" : "ws"}://${location.host}/chat/ws/${booking}`;
document.getElementById("ws-url").textContent = `${url}?booking_id=${booking}`;
for (const chat of document.querySelectorAll("booking-chat")) {
  chat.setAttribute("booking", booking);
  chat.setAttribute("ws-url", url);
}
