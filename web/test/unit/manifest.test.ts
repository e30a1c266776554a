// custom-elements.json (the custom-elements-manifest schema) says what the elements have: checked here against
// the elements themselves (observed attributes, dispatched events, parts, custom properties) and the attribute
// types the framework typings use (src/ui/types.ts), so that none of them drifts alone.

import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { BookingChatElement } from "../../src/ui/element.js";
import { BookingInboxElement } from "../../src/ui/inbox.js";

interface Declaration {
  tagName: string;
  attributes: { name: string }[];
  events: { name: string }[];
  members: { name: string }[];
  cssParts: { name: string }[];
  cssProperties: { name: string }[];
}
const manifest = JSON.parse(readFileSync("custom-elements.json", "utf8")) as {
  schemaVersion: string;
  modules: { path: string; declarations: Declaration[]; exports: { kind: string; name: string }[] }[];
};
const declaration = (tag: string) => manifest.modules.flatMap((m) => m.declarations).find((d) => d.tagName === tag)!;
const names = (list: { name: string }[]) => list.map((x) => x.name).sort();
const source = (file: string) => readFileSync(file, "utf8");
/** The keys of an interface in src/ui/types.ts. */
const typeKeys = (name: string) =>
  [...new RegExp(`interface ${name} \\{([\\s\\S]*?)\\n\\}`).exec(source("src/ui/types.ts"))![1]!.matchAll(/^\s+"?([\w-]+)"?\?:/gm)].map((m) => m[1]!).sort();

const elements = [
  // The chat's search renders parts of its own (src/ui/search.ts).
  { tag: "booking-chat", element: BookingChatElement, file: "src/ui/element.ts", types: "BookingChat", more: ["src/ui/search.ts"] },
  { tag: "booking-inbox", element: BookingInboxElement, file: "src/ui/inbox.ts", types: "BookingInbox", more: [] },
];

it("follows the custom-elements-manifest schema 2.x and defines each tag in its module", () => {
  expect(manifest.schemaVersion).toMatch(/^2\./);
  for (const { tag } of elements) {
    expect(manifest.modules.some((m) => m.exports.some((e) => e.kind === "custom-element-definition" && e.name === tag))).toBe(true);
  }
});

describe.each(elements)("<$tag>", ({ tag, element, file, types, more }) => {
  const d = declaration(tag);

  it("lists exactly the attributes the element observes (theme is CSS's; lang is the standard one), as its typings do", () => {
    const observed = element.observedAttributes.filter((a) => a !== "lang");
    expect(names(d.attributes)).toEqual([...observed, "theme"].sort());
    expect(typeKeys(`${types}Attributes`)).toEqual(names(d.attributes));
  });

  it("lists exactly the events the element dispatches", () => {
    const fired = [...source(file).matchAll(/#fire\("([\w-]+)"/g)].map((m) => m[1]!);
    expect(names(d.events)).toEqual([...new Set(fired)].sort());
  });

  it("lists the settable properties its typings declare, and the parts it renders", () => {
    for (const key of typeKeys(`${types}Properties`)) expect(names(d.members)).toContain(key);
    const text = [file, ...more].map(source).join("\n");
    const parts = new Set([...text.matchAll(/part: "([\w-]+)"/g)].map((m) => m[1]!));
    for (const part of parts) expect(names(d.cssParts)).toContain(part);
  });
});

it("lists every custom property the style sheet reads", () => {
  const used = new Set([...source("src/ui/styles.ts").matchAll(/--booking-chat-([\w-]+)/g)].map((m) => m[1]!));
  const palette = [...source("src/ui/styles.ts").matchAll(/^\s+"?([\w-]+)"?: \["#/gm)].map((m) => m[1]!);
  const all = new Set([...used, ...palette].filter((x) => x !== "${name}").map((x) => `--booking-chat-${x}`));
  expect(names(declaration("booking-chat").cssProperties)).toEqual([...all].sort());
});
