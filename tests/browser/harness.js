// Starts the real things the browser tests drive: `wxemu serve` (the
// binary scripts/test builds) in a temporary data dir, the example site,
// and Debian's chromium trusting wxemu's CA through an NSS database in a
// temporary HOME. No --ignore-certificate-errors anywhere.

import { spawn, execFileSync } from "node:child_process";
import { mkdtempSync, mkdirSync, writeFileSync, rmSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import net from "node:net";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const TARGET = process.env.CARGO_TARGET_DIR || path.join(ROOT, "target");
const WXEMU = path.join(TARGET, "debug", "wxemu");
const SITE = path.join(TARGET, "debug", "examples", "site");
export const SCREENSHOTS = path.join(ROOT, "artifacts", "screenshots");
export const HOST = "localhost.weixin.qq.com";
export const APPID = "wxe2e0000000000001";
export const SECRET = "e2e-secret-0123456789abcdef";
export const APP_NAME = "Example Site";
/** An app whose fast login the client refuses with 10057. */
export const SCAN_ONLY_APPID = "wxe2e0000000000002";

for (const bin of [WXEMU, SITE]) {
  if (!existsSync(bin)) {
    throw new Error(`${bin} is missing: run cargo build --bin wxemu --example site first (scripts/test does)`);
  }
}

/** A TCP port nobody listens on right now (the OS picks it). */
/** Debian's chromium and the flags every suite launches it with. */
export const CHROMIUM = process.env.CHROMIUM || "/usr/bin/chromium";
export const CHROMIUM_FLAGS = [
  "--no-sandbox",
  "--disable-gpu",
  "--disable-background-networking",
  "--disable-component-update",
  "--no-first-run",
];

export function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/** Resolves once something accepts TCP connections on 127.0.0.1:port. */
export async function waitForPort(port, child, what) {
  for (let i = 0; i < 300; i++) {
    if (child.exitCode !== null) throw new Error(`${what} exited early (code ${child.exitCode})`);
    const ok = await new Promise((resolve) => {
      const socket = net.connect(port, "127.0.0.1");
      socket.once("connect", () => { socket.destroy(); resolve(true); });
      socket.once("error", () => resolve(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`${what} did not listen on ${port}`);
}

export function startProcess(bin, args, env, what, log) {
  const child = spawn(bin, args, { env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
  child.stdout.on("data", (d) => log.push(`[${what}] ${d}`));
  child.stderr.on("data", (d) => log.push(`[${what}] ${d}`));
  return child;
}

/**
 * One wxemu + example site + browser, for one approval mode.
 * options: approve (auto|deny|never|ask), platform ([platform] settings),
 * serveArgs (more `wxemu serve` arguments).
 */
export async function startStack({ approve = "auto", platform = {}, serveArgs = [] } = {}) {
  const tmp = mkdtempSync(path.join(tmpdir(), "wxemu-browser-"));
  const dataDir = path.join(tmp, "data");
  const home = path.join(tmp, "home");
  mkdirSync(dataDir, { recursive: true });
  mkdirSync(path.join(home, ".pki", "nssdb"), { recursive: true });
  const platformToml = Object.entries({ auto_scan_delay: "300ms", ...platform })
    .map(([k, v]) => `${k} = ${JSON.stringify(v)}`)
    .join("\n");
  writeFileSync(
    path.join(dataDir, "config.toml"),
    `[platform]\n${platformToml}\n\n` +
      `[[apps]]\nappid = "${APPID}"\nsecret = "${SECRET}"\nname = "${APP_NAME}"\n` +
      `callback_domains = ["127.0.0.1"]\n\n` +
      `[[apps]]\nappid = "${SCAN_ONLY_APPID}"\nsecret = "${SECRET}"\nname = "Scan Only"\n` +
      `callback_domains = ["127.0.0.1"]\nscan_only = true\n`,
  );

  const log = [];
  const children = [];
  const stop = async () => {
    for (const child of children) if (child.exitCode === null) child.kill("SIGTERM");
    rmSync(tmp, { recursive: true, force: true });
  };
  try {
    const wxemuPort = await freePort();
    const env = { WXEMU_DATA_DIR: dataDir, RUST_LOG: "wxemu=debug" };
    const wxemu = startProcess(WXEMU, ["serve", "--port", String(wxemuPort), "--approve", approve, ...serveArgs], env, "wxemu", log);
    children.push(wxemu);
    await waitForPort(wxemuPort, wxemu, "wxemu");
    const ca = execFileSync(WXEMU, ["ca", "path"], { env: { ...process.env, ...env } }).toString().trim();

    // Chromium on Linux reads trust anchors from $HOME/.pki/nssdb.
    const nssdb = `sql:${path.join(home, ".pki", "nssdb")}`;
    execFileSync("certutil", ["-d", nssdb, "-N", "--empty-password"]);
    execFileSync("certutil", ["-d", nssdb, "-A", "-t", "C,,", "-n", "wxemu", "-i", ca]);

    const sitePort = await freePort();
    const wxemuUrl = `https://${HOST}:${wxemuPort}`;
    const site = startProcess(
      SITE,
      ["--wxemu", wxemuUrl, "--port", String(sitePort), "--appid", APPID, "--secret", SECRET, "--ca", ca],
      {},
      "site",
      log,
    );
    children.push(site);
    await waitForPort(sitePort, site, "example site");

    const context = await chromium.launchPersistentContext(path.join(tmp, "profile"), {
      executablePath: CHROMIUM,
      headless: true,
      env: { ...process.env, HOME: home },
      args: [
        ...CHROMIUM_FLAGS,
        // No DNS needed: the name's public A record is 127.0.0.1 anyway.
        `--host-resolver-rules=MAP ${HOST} 127.0.0.1`,
      ],
      viewport: { width: 1000, height: 720 },
    });
    const stack = {
      wxemuPort,
      wxemuUrl,
      // For tests that drive wxemu's control API (token, CA) or `wxemu ctl`.
      dataDir,
      ca,
      wxemuBin: WXEMU,
      siteUrl: `http://127.0.0.1:${sitePort}`,
      context,
      log,
      async close() {
        await context.close().catch(() => {});
        await stop();
      },
    };
    return stack;
  } catch (e) {
    await stop();
    e.message += `\n--- process output ---\n${log.join("")}`;
    throw e;
  }
}

/** The wxemu login URL for the redirect variant, as a site would build it. */
export function qrconnectUrl(stack, extra = {}) {
  const params = new URLSearchParams({
    appid: APPID,
    redirect_uri: `${stack.siteUrl}/callback`,
    response_type: "code",
    scope: "snsapi_login",
    state: "test-state",
    ...extra,
  });
  return `${stack.wxemuUrl}/connect/qrconnect?${params}#wechat_redirect`;
}

export async function screenshot(page, name) {
  mkdirSync(SCREENSHOTS, { recursive: true });
  await page.screenshot({ path: path.join(SCREENSHOTS, `${name}.png`) });
}
