// The React example, built by the browser tests (`vite build`) and served by their harness under
// /examples/react/. The package's entries resolve to its sources, as an app's bundler resolves them in
// node_modules; React comes from web/node_modules.
import { fileURLToPath } from "node:url";
import { defineConfig } from "vite";

const src = (path: string) => fileURLToPath(new URL(`../../src/${path}`, import.meta.url));

export default defineConfig({
  base: "/examples/react/",
  resolve: {
    alias: {
      "@booking-chat/widget/react": src("react/index.ts"),
      "@booking-chat/widget/inbox": src("inbox.ts"),
      "@booking-chat/widget": src("index.ts"),
    },
  },
  oxc: { jsx: { runtime: "automatic" } },
  build: { outDir: "dist", emptyOutDir: true, sourcemap: true },
  logLevel: "warn",
});
