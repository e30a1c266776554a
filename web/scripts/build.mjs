// Builds the package: minified ES modules, one per entry point, sharing chunks (so that an app importing the
// element and the React hooks loads one client), and the type declarations. React is the app's (a peer
// dependency), never bundled. Run by `npm run build` (and `npm pack`).
import { execFileSync } from "node:child_process";
import { rmSync } from "node:fs";
import { build } from "esbuild";

rmSync("dist", { recursive: true, force: true });
await build({
  entryPoints: {
    "booking-chat": "src/index.ts",
    client: "src/client/index.ts",
    frames: "src/frames.ts",
    user: "src/client/user.ts",
    inbox: "src/inbox.ts",
    react: "src/react/index.ts",
    vue: "src/vue.ts",
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
execFileSync(process.execPath, ["node_modules/typescript/bin/tsc", "-p", "tsconfig.json"], { stdio: "inherit" });
console.log("built dist/ (booking-chat, client, frames, user, inbox, react, vue) and dist/types/");
