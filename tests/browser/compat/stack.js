// The compatibility suite's shared stack: one `wxemu serve` answering as the real
// WeChat hosts (hosts mode: `--intercept-port 443`), one Debian chromium trusting
// both wxemu CAs through an NSS database in a temporary HOME, and a site built on a
// real login library whose backend trusts the interception CA through the usual
// environment variables. Nothing is pointed at wxemu: names resolve through
// /etc/hosts, which compat/run.sh maps (`wxemu hosts add [--intercept]` plus
// `site.test`) inside a private mount + network namespace. Outside that namespace
// the suite skips (or fails, under WXEMU_REQUIRE_SYSTEM_TESTS=1, as in CI).

import { execFileSync } from "node:child_process";
import { mkdtempSync, mkdirSync, writeFileSync, readFileSync, rmSync } from "node:fs";
import { lookup } from "node:dns/promises";
import https from "node:https";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";
import { freePort, startProcess, waitForPort, screenshot, CHROMIUM, CHROMIUM_FLAGS } from "../harness.js";

export { screenshot };

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../..");
const TARGET = process.env.CARGO_TARGET_DIR || path.join(ROOT, "target");
export const WXEMU = path.join(TARGET, "debug", "wxemu");
export const COMPAT = path.dirname(fileURLToPath(import.meta.url));
export const PYTHON = path.join(ROOT, "tests", "sdk", ".venv", "bin", "python");

/** The emulated account's nickname: CJK and an emoji (4 bytes in UTF-8, a surrogate pair in JS). */
export const NICKNAME = "微信测试用户😀";
/** A website app (网站应用: qrconnect). */
export const WEB_APPID = "wxc0a0000000000001";
/** An official account (公众号: oauth2/authorize inside WeChat). */
export const MP_APPID = "wxc0a0000000000002";
export const SECRET = "c0a0-secret-0123456789abcdef01";
export const SITE_HOST = "site.test";
/** wxemu's own port, the first one the login page probes for fast login. */
export const WXEMU_PORT = 14013;
/** WeChat's in-app browser on an iPhone. */
export const WECHAT_UA =
  "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) " +
  "Mobile/15E148 MicroMessenger/8.0.49(0x18003137) NetType/WIFI Language/zh_CN";

/**
 * Why the suite cannot run here, or null when it can: the names must resolve to
 * loopback through /etc/hosts, which only compat/run.sh's namespace arranges.
 */
export async function notInNamespace() {
  if (!process.env.WXEMU_COMPAT_NAMESPACE) {
    return "not inside compat/run.sh's private namespace (it needs root: unshare, a private /etc/hosts)";
  }
  for (const name of ["open.weixin.qq.com", "api.weixin.qq.com", "localhost.weixin.qq.com", SITE_HOST]) {
    const { address } = await lookup(name, { family: 4 });
    if (address !== "127.0.0.1") return `${name} resolves to ${address}, not 127.0.0.1`;
  }
  return null;
}

/** node:test options for a suite: skip with the reason outside the namespace, unless CI requires it. */
export async function suiteOptions() {
  const why = await notInNamespace();
  if (why && process.env.WXEMU_REQUIRE_SYSTEM_TESTS) {
    throw new Error(`the compatibility suite must run (WXEMU_REQUIRE_SYSTEM_TESTS): ${why}`);
  }
  return why ? { skip: `${why}; run tests/browser/compat/run.sh as root` } : {};
}

/**
 * Starts wxemu (hosts mode on 443, its own port 14013, policy `auto`) with the
 * account and both apps; chromium opens on the first page (or `openBrowser`).
 */
export async function startStack() {
  const tmp = mkdtempSync(path.join(tmpdir(), "wxemu-compat-"));
  const dataDir = path.join(tmp, "data");
  const home = path.join(tmp, "home");
  mkdirSync(dataDir, { recursive: true });
  mkdirSync(path.join(home, ".pki", "nssdb"), { recursive: true });
  writeFileSync(
    path.join(dataDir, "config.toml"),
    `[platform]\nauto_scan_delay = "300ms"\n\n` +
      `[[accounts]]\nid = "default"\nnickname = "${NICKNAME}"\nsex = 1\n` +
      `province = "Guangdong"\ncity = "Shenzhen"\ncountry = "CN"\n\n` +
      `[[apps]]\nappid = "${WEB_APPID}"\nsecret = "${SECRET}"\nname = "Compat Site"\n` +
      `callback_domains = ["${SITE_HOST}"]\nowner = "compat-developer"\n\n` +
      `[[apps]]\nappid = "${MP_APPID}"\nsecret = "${SECRET}"\nname = "Compat Official Account"\n` +
      `callback_domains = ["${SITE_HOST}"]\nowner = "compat-developer"\n` +
      `kind = "official_account"\noauth_domains = ["${SITE_HOST}"]\n`,
  );
  const log = [];
  const children = [];
  let context;
  let profiles = 0;
  const env = { WXEMU_DATA_DIR: dataDir, RUST_LOG: "wxemu=debug" };
  const stop = async () => {
    await context?.close().catch(() => {});
    for (const child of children) if (child.exitCode === null) child.kill("SIGTERM");
    rmSync(tmp, { recursive: true, force: true });
  };
  try {
    const wxemu = startProcess(
      WXEMU,
      ["serve", "--port", String(WXEMU_PORT), "--intercept-port", "443", "--approve", "auto"],
      env,
      "wxemu",
      log,
    );
    children.push(wxemu);
    await waitForPort(WXEMU_PORT, wxemu, "wxemu");
    await waitForPort(443, wxemu, "wxemu hosts mode");
    const run = (...args) => execFileSync(WXEMU, args, { env: { ...process.env, ...env } }).toString().trim();
    const ca = run("ca", "path");
    const interceptCa = run("ca", "path", "--intercept");

    // Both CAs in chromium's NSS database, as `wxemu trust install [--intercept]` would.
    const nssdb = `sql:${path.join(home, ".pki", "nssdb")}`;
    execFileSync("certutil", ["-d", nssdb, "-N", "--empty-password"]);
    execFileSync("certutil", ["-d", nssdb, "-A", "-t", "C,,", "-n", "wxemu", "-i", ca]);
    execFileSync("certutil", ["-d", nssdb, "-A", "-t", "C,,", "-n", "wxemu-intercept", "-i", interceptCa]);

    // A backend's trust: the CA variables of `wxemu trust env --intercept` (system
    // roots + both wxemu CAs). Its proxy variables are left out: hosts mode needs none.
    const backendEnv = {};
    for (const line of run("trust", "env", "--intercept", "--shell", "sh").split("\n")) {
      const m = /^export ([A-Za-z_]+)='(.*)'$/.exec(line);
      if (m && /CA|CERT/.test(m[1])) backendEnv[m[1]] = m[2];
    }
    for (const name of ["NODE_EXTRA_CA_CERTS", "REQUESTS_CA_BUNDLE", "SSL_CERT_FILE"]) {
      if (!backendEnv[name]) throw new Error(`wxemu trust env --intercept printed no ${name}`);
    }

    const token = readFileSync(path.join(dataDir, "control-token"), "utf8").trim();
    const caPem = readFileSync(ca);
    return {
      log,
      backendEnv,
      /** Starts a site (the library's backend) on site.test:PORT; resolves to its base URL. */
      async startSite(bin, args, siteEnv = {}) {
        const port = await freePort();
        const child = startProcess(
          bin,
          args.map((a) => a.replaceAll("$PORT", String(port))),
          { ...backendEnv, ...siteEnv, SITE_PORT: String(port) },
          path.basename(args[0] ?? bin),
          log,
        );
        children.push(child);
        await waitForPort(port, child, `site ${args.join(" ")}`).catch((e) => {
          e.message += `\n--- process output ---\n${log.join("")}`;
          throw e;
        });
        return `http://${SITE_HOST}:${port}`;
      },
      /** The control API (docs/control-api.md), as a test runner calls it. */
      control(method, route, body) {
        return controlCall({ method, route, body, token, ca: caPem });
      },
      /**
       * Opens chromium (closing the one before): a desktop browser, or WeChat's
       * in-app browser with `userAgent: WECHAT_UA`.
       */
      async openBrowser({ userAgent } = {}) {
        await context?.close().catch(() => {});
        profiles += 1;
        context = await chromium.launchPersistentContext(path.join(tmp, `profile-${profiles}`), {
          executablePath: CHROMIUM,
          headless: true,
          env: { ...process.env, HOME: home },
          args: CHROMIUM_FLAGS,
          viewport: userAgent ? { width: 390, height: 844 } : { width: 1000, height: 720 },
          ...(userAgent ? { userAgent } : {}),
        });
      },
      /** A fresh page in a browser with no cookies (each test its own login). */
      async page() {
        if (!context) await this.openBrowser();
        await context.clearCookies();
        const page = await context.newPage();
        page.setDefaultTimeout(20_000);
        return page;
      },
      close: stop,
    };
  } catch (e) {
    await stop();
    e.message += `\n--- process output ---\n${log.join("")}`;
    throw e;
  }
}

function controlCall({ method, route, body, token, ca }) {
  return new Promise((resolve, reject) => {
    const data = body === undefined ? undefined : JSON.stringify(body);
    const req = https.request(
      {
        host: "localhost.weixin.qq.com",
        port: WXEMU_PORT,
        method,
        path: `/__wxemu${route}`,
        ca,
        headers: {
          authorization: `Bearer ${token}`,
          ...(data ? { "content-type": "application/json" } : {}),
        },
      },
      (res) => {
        let text = "";
        res.setEncoding("utf8");
        res.on("data", (d) => (text += d));
        res.on("end", () => {
          if (res.statusCode >= 400) reject(new Error(`${method} ${route}: ${res.statusCode} ${text}`));
          else resolve(text ? JSON.parse(text) : null);
        });
      },
    );
    req.on("error", reject);
    req.end(data);
  });
}

/** The journal's entries on `host` since `since` (e.g. the token calls a library made). */
export async function journal(stack, query) {
  const { entries } = await stack.control("GET", `/journal?${new URLSearchParams(query)}`);
  return entries;
}

/** Runs fn(page), adding the processes' output to a failure. */
export async function withPage(stack, fn) {
  const page = await stack.page();
  try {
    return await fn(page);
  } catch (e) {
    const body = await page.locator("body").innerText().catch(() => "?");
    const more = `\n--- page ${page.url()} ---\n${body.slice(0, 2000)}\n--- process output ---\n${stack.log.join("")}`;
    e.message += more;
    if (e.stack) e.stack += more;
    throw e;
  } finally {
    await page.close().catch(() => {});
  }
}
