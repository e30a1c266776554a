// Builds the package: two minified ES modules (the client alone, and client plus element) and the type
// declarations. Run by `npm run build` (and `npm pack`).
import { execFileSync } from "node:child_process";
import { rmSync } from "node:fs";
import { build } from "esbuild";

rmSync("dist", { recursive: true, force: true });
const common = { bundle: true, format: "esm", target: "es2022", minify: true, sourcemap: true, legalComments: "none" };
await build({ ...common, entryPoints: { "booking-chat": "src/index.ts", client: "src/client/index.ts", frames: "src/frames.ts" }, outdir: "dist" });
execFileSync(process.execPath, ["node_modules/typescript/bin/tsc", "-p", "tsconfig.json"], { stdio: "inherit" });
console.log("built dist/booking-chat.js, dist/client.js and dist/types/");
