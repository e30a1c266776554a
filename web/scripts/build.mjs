// Builds the package: minified ES modules, one per entry point, sharing chunks (so that an app importing the
// element and the React hooks loads one client), the service worker (one classic script, nothing to import:
// the app serves it from its own origin), and the type declarations. React is the app's (a peer
// dependency), never bundled. Run by `npm run build` (and `npm pack`).
import { execFileSync } from "node:child_process";
import { readFileSync, rmSync } from "node:fs";
import { gzipSync } from "node:zlib";
import { build } from "esbuild";

rmSync("dist", { recursive: true, force: true });
await build({
  entryPoints: {
    "booking-chat": "src/index.ts",
    client: "src/client/index.ts",
    frames: "src/frames.ts",
    attachments: "src/client/attachments.ts",
    user: "src/client/user.ts",
    inbox: "src/inbox.ts",
    react: "src/react/index.ts",
    vue: "src/vue.ts",
    push: "src/push.ts",
  },
  outdir: "dist",
  bundle: true,
  splitting: true,
  chunkNames: "chunks/[name]-[hash]",
  external: ["react", "vue"],
  format: "esm",
  target: "es2022",
  minify: true,
  sourcemap: true,
  legalComments: "none",
});
await build({
  entryPoints: { "booking-chat-sw": "src/sw.ts" },
  outdir: "dist",
  bundle: true,
  format: "iife",
  target: "es2022",
  minify: true,
  sourcemap: true,
  legalComments: "none",
});
execFileSync(process.execPath, ["node_modules/typescript/bin/tsc", "-p", "tsconfig.json"], { stdio: "inherit" });
console.log("built dist/ (booking-chat, client, frames, attachments, user, inbox, react, vue, push, booking-chat-sw) and dist/types/");

// The budgets: what a page loads from each entry, bundled whole (chunks included), gzipped.
const budgets = Object.entries(JSON.parse(readFileSync("size-budgets.json", "utf8"))).filter(([key]) => key !== "//");
const gzipped = {};
for (const [name, { entry }] of budgets) {
  const result = await build({ entryPoints: [entry], bundle: true, external: ["react"], format: "esm", target: "es2022", minify: true, legalComments: "none", write: false });
  gzipped[name] = gzipSync(result.outputFiles[0].contents, { level: 9 }).length;
}
for (const [name, { budget, onTopOf, what }] of budgets) {
  const size = gzipped[name] - (onTopOf ? gzipped[onTopOf] : 0);
  console.log(`size: ${what}: ${size} B gzipped, budget ${budget} B${size > budget ? " — OVER BUDGET" : ""}`);
}
