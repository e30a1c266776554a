// What the browser tests run against: the local stack (chat-dev: the backend and the API Gateway emulator with
// the Lambda in-process), on loopback ports chosen at run time and SQLite in a temporary directory so that
// data survives a stop and start; and a small site serving the demo page and the built bundle, forwarding
// `/dev/*` and `/api/*` to the backend (which sends no CORS headers) and minting test tokens. Members' files
// (the disk file store) live in the same temporary directory, and the backend names the site as their origin
// (`FILE_STORE_PUBLIC_URL`), so that uploads and downloads reach it through the site, as the page's own origin.

import { spawn } from "node:child_process";
import { createHmac } from "node:crypto";
import { createReadStream, existsSync, mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { createServer, request } from "node:http";
import { createServer as createNetServer } from "node:net";
import { tmpdir } from "node:os";
import { extname, join, normalize } from "node:path";
import { fileURLToPath } from "node:url";

const WEB = fileURLToPath(new URL("../..", import.meta.url));
/** The local stack's development JWT secret (`LOCAL_JWT_SECRET` in backend/src/config.rs). */
const LOCAL_JWT_SECRET = "local-dev-secret";

/** A free loopback port. */
export function freePort() {
  return new Promise((resolve, reject) => {
    const server = createNetServer();
    server.on("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** The local stack: `start()`, `stop()` (and start again on the same ports and data). */
export class Stack {
  constructor(bin) {
    this.bin = bin;
    this.data = mkdtempSync(join(tmpdir(), "booking-chat-web-"));
    this.log = "";
  }

  async start() {
    this.backendPort ??= await freePort();
    this.emulatorPort ??= await freePort();
    // The site's port is chosen now: the backend names it in the file store's URLs.
    this.sitePort ??= await freePort();
    this.child = spawn(this.bin, [], {
      env: {
        ...process.env,
        APP_ENV: "local",
        BIND_ADDR: `127.0.0.1:${this.backendPort}`,
        EMULATOR_BIND_ADDR: `127.0.0.1:${this.emulatorPort}`,
        DATABASE_URL: `sqlite://${this.data}/chat.db`,
        // Expired means expired: the token tests must not pass on the leeway.
        JWT_LEEWAY_SECONDS: "1",
        LOG_FORMAT: "text",
        // The widget's tests need no emails: no moto, no notifier (dev-stack's tests cover them).
        NOTIFICATIONS: "off",
        FILE_STORE: `disk:${join(this.data, "files")}`,
        // The chat's events too (local mode's default is `.data/events.jsonl` under the working directory).
        EVENTS_FILE: join(this.data, "events.jsonl"),
        FILE_STORE_PUBLIC_URL: `http://127.0.0.1:${this.sitePort}`,
      },
      stdio: ["ignore", "pipe", "pipe"],
    });
    const append = (chunk) => {
      // eslint-disable-next-line no-control-regex
      this.log = (this.log + String(chunk).replace(/\x1b\[[0-9;]*m/g, "")).slice(-4_000);
    };
    this.child.stdout.on("data", append);
    this.child.stderr.on("data", append);
    const exited = new Promise((resolve) => this.child.once("exit", resolve));
    this.exited = exited;
    for (let i = 0; i < 150; i++) {
      const ready = await fetch(`${this.backendUrl}/readyz`).then((r) => r.ok, () => false);
      if (ready) return;
      if (this.child.exitCode !== null) break;
      await sleep(200);
    }
    throw new Error(`chat-dev did not become ready\n${this.log}`);
  }

  async stop() {
    if (!this.child || this.child.exitCode !== null) return;
    this.child.kill("SIGTERM");
    const timeout = sleep(10_000).then(() => "timeout");
    if ((await Promise.race([this.exited, timeout])) === "timeout") {
      this.child.kill("SIGKILL");
      await this.exited;
    }
  }

  async dispose() {
    await this.stop();
    rmSync(this.data, { recursive: true, force: true });
  }

  get running() {
    return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null;
  }

  get backendUrl() {
    return `http://127.0.0.1:${this.backendPort}`;
  }
}

/** An HS256 JWT for `sub`, living `ttlSeconds`, signed with the local secret (or not, with `forged`). */
export function mintToken(sub, ttlSeconds, forged = false) {
  const b64 = (value) => Buffer.from(JSON.stringify(value)).toString("base64url");
  const now = Math.floor(Date.now() / 1000);
  const body = `${b64({ alg: "HS256", typ: "JWT" })}.${b64({ sub, iat: now, exp: now + ttlSeconds })}`;
  const signature = createHmac("sha256", forged ? "not-the-secret" : LOCAL_JWT_SECRET).update(body).digest("base64url");
  return `${body}.${signature}`;
}

const TYPES = { ".html": "text/html; charset=utf-8", ".js": "text/javascript", ".map": "application/json", ".css": "text/css" };

/** The README's ten-line HTML example, as written (the code block after the "## Ten lines" heading). */
export function readmeExample(language) {
  const readme = readFileSync(join(WEB, "README.md"), "utf8");
  const section = readme.slice(readme.indexOf("## Ten lines"));
  const block = new RegExp("```" + language + "\n([\\s\\S]*?)\n```").exec(section);
  if (!block) throw new Error(`no ${language} block under "## Ten lines" in web/README.md`);
  return block[1];
}

/** The people the site names (`GET /people/{id}`, as an app's user directory would). */
export const PEOPLE = { alice: { name: "Alice Ashby" }, bob: { name: "Bob Brook" } };

/**
 * The site: `/` the demo page, `/dist/*` the bundle, `/dev/*` and `/api/*` forwarded to the backend,
 * `/examples/react/` the React example's build, `/test/readme?user=&ttl=` the README's HTML example as written
 * (the page's user and its tokens' life in cookies; `/session/chat-token` mints them; `/people/{id}` names users),
 * `/test/token?user=&ttl=&forge=first&fail=afterN` test tokens (counted in `tokenCalls`; `fail=afterN`: HTTP
 * 503 once N have been handed out for that user and booking), `/test/page?w=user:booking:tokenQuery&noapi=1`
 * a page of widgets built from the query (`noapi`: without `api-url`).
 */
export async function startSite(stack) {
  const tokenCalls = [];
  const forged = new Set();
  const handedOut = new Map();
  const server = createServer((req, res) => {
    const url = new URL(req.url, "http://site");
    if (url.pathname.startsWith("/dev/") || url.pathname.startsWith("/api/")) {
      const upstream = request(
        { host: "127.0.0.1", port: stack.backendPort, path: req.url, method: req.method, headers: req.headers },
        (answer) => {
          res.writeHead(answer.statusCode ?? 502, answer.headers);
          answer.pipe(res);
        },
      );
      upstream.on("error", () => {
        res.writeHead(502).end("the backend is down");
      });
      req.pipe(upstream);
      return;
    }
    if (url.pathname === "/test/token") {
      const user = url.searchParams.get("user") ?? "alice";
      const ttl = Number(url.searchParams.get("ttl") ?? "3600");
      const booking = url.searchParams.get("booking");
      const failAfter = /^after(\d+)$/.exec(url.searchParams.get("fail") ?? "")?.[1];
      const served = handedOut.get(`${user}:${booking}`) ?? 0;
      if (failAfter !== undefined && served >= Number(failAfter)) {
        tokenCalls.push({ user, booking, at: Date.now(), forged: false, failed: true });
        res.writeHead(503, { "content-type": "text/plain", "cache-control": "no-store" }).end("token service down");
        return;
      }
      handedOut.set(`${user}:${booking}`, served + 1);
      const forge = url.searchParams.get("forge") === "first" && !forged.has(user);
      if (forge) forged.add(user);
      tokenCalls.push({ user, booking, at: Date.now(), forged: forge, failed: false });
      res.writeHead(200, { "content-type": "application/json", "cache-control": "no-store" });
      res.end(JSON.stringify({ token: mintToken(user, ttl, forge) }));
      return;
    }
    if (url.pathname === "/test/readme") {
      // As written, but for where the WebSocket and the backend are; bare imports resolve with an import map.
      const html = readmeExample("html")
        .replaceAll("wss://abc123.execute-api.eu-west-1.amazonaws.com/prod", `ws://127.0.0.1:${stack.emulatorPort}/local`)
        .replaceAll("https://api.example.com", "/");
      const imports = { "@booking-chat/widget": "/dist/booking-chat.js", "@booking-chat/widget/inbox": "/dist/inbox.js" };
      const cookies = [`user=${url.searchParams.get("user") ?? "alice"}; Path=/`, `ttl=${url.searchParams.get("ttl") ?? 3600}; Path=/`];
      res.writeHead(200, { "content-type": TYPES[".html"], "set-cookie": cookies });
      res.end(`<!doctype html><html lang="en"><head><meta charset="utf-8"><title>README example</title>
        <script type="importmap">${JSON.stringify({ imports })}</script></head><body><main><h1>The README's example</h1>${html}</main></body></html>`);
      return;
    }
    if (url.pathname === "/session/chat-token") {
      const cookie = (name) => new RegExp(`(?:^|; )${name}=([^;]+)`).exec(req.headers.cookie ?? "")?.[1];
      const user = cookie("user");
      if (!user) return void res.writeHead(401).end();
      tokenCalls.push({ user, booking: null, at: Date.now(), forged: false, failed: false });
      res.writeHead(200, { "content-type": "application/json", "cache-control": "no-store" });
      res.end(JSON.stringify({ token: mintToken(user, Number(cookie("ttl") ?? 3600)) }));
      return;
    }
    if (url.pathname.startsWith("/people/")) {
      const person = PEOPLE[decodeURIComponent(url.pathname.slice("/people/".length))];
      res.writeHead(person ? 200 : 404, { "content-type": "application/json" }).end(JSON.stringify(person ?? null));
      return;
    }
    if (url.pathname === "/test/page") {
      const api = url.searchParams.get("noapi") ? "" : 'api-url="/"';
      const widgets = url.searchParams.getAll("w").map((spec) => {
        const [user, booking, tokenQuery = ""] = spec.split(":");
        return `<booking-chat heading="${user} #${booking}" user="${user}" booking="${booking}" ${api}
          ws-url="ws://127.0.0.1:${stack.emulatorPort}/local" token-url="/test/token?user=${user}&booking=${booking}${tokenQuery ? "&" + tokenQuery : ""}"></booking-chat>`;
      });
      res.writeHead(200, { "content-type": TYPES[".html"] });
      res.end(`<!doctype html><html lang="en"><head><meta charset="utf-8"><title>widgets</title>
        <script type="module" src="/dist/booking-chat.js"></script></head>
        <body><main><h1>Widgets</h1><div style="display:grid;grid-template-columns:1fr 1fr;gap:1rem">${widgets.join("")}</div></main></body></html>`);
      return;
    }
    const path =
      url.pathname === "/"
        ? "/demo/index.html"
        : url.pathname.startsWith("/dist/")
          ? url.pathname
          : url.pathname.startsWith("/examples/react/")
            ? `/examples/react/dist/${url.pathname.slice("/examples/react/".length) || "index.html"}`
            : `/demo${url.pathname}`;
    const file = normalize(join(WEB, path));
    if (!file.startsWith(WEB) || !existsSync(file) || !statSync(file).isFile()) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { "content-type": TYPES[extname(file)] ?? "application/octet-stream" });
    createReadStream(file).pipe(res);
  });
  await new Promise((resolve) => server.listen(stack.sitePort ?? 0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${server.address().port}`,
    tokenCalls,
    close: () => new Promise((resolve) => server.close(resolve)),
  };
}

/** Chromium as TOOLING.md says: Debian's binary, headless, no sandbox, nothing phoning home. */
export const CHROMIUM_OPTIONS = {
  executablePath: process.env.CHROMIUM_PATH || "/usr/bin/chromium",
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
    "--disable-component-update", "--disable-sync"],
};

/** axe-core's source, to inject into a page. */
export const AXE_SOURCE = readFileSync(fileURLToPath(import.meta.resolve("axe-core/axe.min.js")), "utf8");

/** axe-core's violations on `page`, one line each (rule, help, where). */
export async function axe(page) {
  await page.addScriptTag({ content: AXE_SOURCE });
  return page.evaluate(async () => {
    const result = await window.axe.run(document, { resultTypes: ["violations"] });
    return result.violations.map((v) => `${v.id}: ${v.help} (${v.nodes.map((n) => n.target.join(" ")).join(", ")})`);
  });
}

/** Where screenshots are kept. */
export const ARTEFACTS = join(WEB, "test-results");
