// The README's ten-line examples work as written: the React one is examples/react/src/TenLines.tsx (type-checked
// by `npm run typecheck`, run in Chromium by test/browser/frameworks.test.mjs), and the HTML one is served as
// written by the browser harness (`/test/readme`).

import { readFileSync } from "node:fs";
import { expect, it } from "vitest";

const section = readFileSync("README.md", "utf8").split("## Ten lines")[1]!;
const block = (language: string) => new RegExp("```" + language + "\\n([\\s\\S]*?)\\n```").exec(section)?.[1];

it("the README's React example is examples/react/src/TenLines.tsx, character for character", () => {
  expect(block("tsx")).toBe(readFileSync("examples/react/src/TenLines.tsx", "utf8").trimEnd());
});

it("the README's two examples are ten lines of code or so (the HTML one's markup, script and all)", () => {
  const lines = (text: string) => text.split("\n").filter((l) => l.trim() && !l.trim().startsWith("//")).length;
  expect(lines(block("html")!)).toBeLessThanOrEqual(11);
  expect(lines(block("tsx")!)).toBeLessThanOrEqual(11);
});
