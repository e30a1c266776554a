//! What both elements build with: `h` (an element with attributes and children), a token provider from a URL,
//! and `Base`, which is `HTMLElement` where there is a DOM and a stand-in on a server (importing never throws).

import type { TokenProvider } from "../client/client.js";

/** For promises whose failure the element shows otherwise (a failed message) or that need no word. */
export const ignore = (): void => {};

/** Builds an element: `h("li", {class: "msg", part: "message"}, ...children)`. */
export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Record<string, string> = {},
  ...children: (Node | string | false | undefined)[]
): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, v);
  for (const c of children) if (c !== false && c !== undefined) el.append(c);
  return el;
}

/** A token provider from a URL answering `{"token": "..."}` (or the token as text), with the page's cookies. */
export function tokenFromUrl(url: string): TokenProvider {
  return async () => {
    const response = await fetch(url, { credentials: "include", cache: "no-store" });
    if (!response.ok) throw new Error(`token: HTTP ${response.status}`);
    const text = await response.text();
    try {
      const json: unknown = JSON.parse(text);
      if (typeof json === "object" && json !== null && typeof (json as { token?: unknown }).token === "string") {
        return (json as { token: string }).token;
      }
    } catch {
      // Not JSON: the body is the token.
    }
    return text.trim();
  };
}

/** `HTMLElement` where there is one; on a server (no DOM) a stand-in, so that importing does not throw. */
export const Base: typeof HTMLElement = globalThis.HTMLElement ?? (class {} as typeof HTMLElement);

