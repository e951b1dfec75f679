// Interception end to end in Debian's chromium: an unmodified site (tests/sdk/real_site.js)
// whose code names only the real WeChat URLs logs in against wxemu. Chromium goes
// through wxemu's proxy (--proxy-server, `serve --proxy-offline`, so its own background
// requests are refused and nothing leaves the machine) with both wxemu CAs in its NSS
// database and no certificate flags; the site's backend reaches api.weixin.qq.com
// through the same proxy with a process-wide proxy agent and the CA file that
// `wxemu trust env --intercept` names.

import { describe, it, before, after } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, mkdirSync, writeFileSync, rmSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";
import { freePort, startProcess, waitForPort, screenshot, APPID, SECRET, APP_NAME, CHROMIUM, CHROMIUM_FLAGS } from "./harness.js";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const TARGET = process.env.CARGO_TARGET_DIR || path.join(ROOT, "target");
const WXEMU = path.join(TARGET, "debug", "wxemu");
const SDK = path.join(ROOT, "tests", "sdk");
const NICKNAME = "微信测试用户"; // wxemu's built-in account

/**
 * wxemu with an offline proxy (the backend always uses it) plus, for `mode: "hosts"`,
 * hosts mode on its own port; the site; Chromium either through the proxy
 * (`mode: "proxy"`) or resolving the intercepted names to hosts mode's port with
 * --host-resolver-rules (what `wxemu hosts add --intercept` does for a whole machine,
 * without touching /etc/hosts).
 */
async function startInterceptStack({ mode = "proxy" } = {}) {
  if (!existsSync(path.join(SDK, "node_modules", "wechat-oauth"))) {
    throw new Error("tests/sdk/node_modules is missing: scripts/test runs npm ci there");
  }
  const tmp = mkdtempSync(path.join(tmpdir(), "wxemu-intercept-"));
  const dataDir = path.join(tmp, "data");
  const home = path.join(tmp, "home");
  mkdirSync(dataDir, { recursive: true });
  mkdirSync(path.join(home, ".pki", "nssdb"), { recursive: true });
  writeFileSync(
    path.join(dataDir, "config.toml"),
    `[platform]\nauto_scan_delay = "300ms"\n\n` +
      `[[apps]]\nappid = "${APPID}"\nsecret = "${SECRET}"\nname = "${APP_NAME}"\n` +
      `callback_domains = ["127.0.0.1"]\n`,
  );
  const log = [];
  const children = [];
  const stop = async () => {
    for (const child of children) if (child.exitCode === null) child.kill("SIGTERM");
    rmSync(tmp, { recursive: true, force: true });
  };
  try {
    const env = { WXEMU_DATA_DIR: dataDir, RUST_LOG: "wxemu=debug" };
    const wxemuPort = await freePort();
    const proxyPort = await freePort();
    const interceptPort = await freePort();
    const hostsMode = mode === "hosts" ? ["--intercept-port", String(interceptPort)] : [];
    const wxemu = startProcess(
      WXEMU,
      ["serve", "--port", String(wxemuPort), "--approve", "auto", "--proxy-port", String(proxyPort), "--proxy-offline", ...hostsMode],
      env,
      "wxemu",
      log,
    );
    children.push(wxemu);
    await waitForPort(wxemuPort, wxemu, "wxemu");
    await waitForPort(proxyPort, wxemu, "wxemu proxy");
    if (mode === "hosts") await waitForPort(interceptPort, wxemu, "wxemu hosts mode");

    // Both CAs in Chromium's NSS database, as `wxemu trust install [--intercept]` would.
    const nssdb = `sql:${path.join(home, ".pki", "nssdb")}`;
    execFileSync("certutil", ["-d", nssdb, "-N", "--empty-password"]);
    for (const flag of [[], ["--intercept"]]) {
      const ca = execFileSync(WXEMU, ["ca", "path", ...flag], { env: { ...process.env, ...env } }).toString().trim();
      execFileSync("certutil", ["-d", nssdb, "-A", "-t", "C,,", "-n", `wxemu${flag.join("")}`, "-i", ca]);
    }

    // The backend's environment: exactly what `wxemu trust env --intercept` prints,
    // plus the proxy agent's own variable (Node 20 ignores HTTPS_PROXY).
    const lines = execFileSync(
      WXEMU,
      ["trust", "env", "--intercept", "--proxy-port", String(proxyPort), "--shell", "sh"],
      { env: { ...process.env, ...env } },
    ).toString();
    const backendEnv = { GLOBAL_AGENT_HTTP_PROXY: `http://127.0.0.1:${proxyPort}` };
    for (const line of lines.split("\n")) {
      const m = /^export ([A-Za-z_]+)='(.*)'$/.exec(line);
      if (m) backendEnv[m[1]] = m[2];
    }
    assert.ok(backendEnv.NODE_EXTRA_CA_CERTS, lines);
    const sitePort = await freePort();
    const site = startProcess("node", [path.join(SDK, "real_site.js"), String(sitePort), APPID, SECRET], backendEnv, "site", log);
    children.push(site);
    await waitForPort(sitePort, site, "real site");

    const context = await chromium.launchPersistentContext(path.join(tmp, "profile"), {
      executablePath: CHROMIUM,
      headless: true,
      env: { ...process.env, HOME: home },
      args: [
        ...CHROMIUM_FLAGS,
        ...(mode === "hosts"
          ? [
              // The intercepted names on hosts mode's port; nothing else resolves.
              "--host-resolver-rules=" +
                ["open.weixin.qq.com", "lp.open.weixin.qq.com", "res.wx.qq.com"]
                  .map((h) => `MAP ${h} 127.0.0.1:${interceptPort}`)
                  .concat(["MAP localhost.weixin.qq.com 127.0.0.1", "MAP * ~NOTFOUND", "EXCLUDE 127.0.0.1"])
                  .join(", "),
            ]
          : [
              // Every host through wxemu's offline proxy; Chromium bypasses loopback.
              `--proxy-server=http://127.0.0.1:${proxyPort}`,
            ]),
      ],
      viewport: { width: 1000, height: 720 },
    });
    return {
      siteUrl: `http://127.0.0.1:${sitePort}`,
      proxyPort,
      context,
      log,
      async close() {
        await context.close().catch(() => {});
        await stop();
      },
    };
  } catch (e) {
    await stop();
    e.message += `\n--- process output ---\n${log.join("")}`;
    throw e;
  }
}

async function assertLoggedIn(stack, page) {
  if (process.env.WXEMU_DEBUG_INTERCEPT) {
    page.on("console", (m) => stack.log.push(`[console] ${m.text()}\n`));
    page.on("requestfailed", (r) => stack.log.push(`[failed] ${r.url()} ${r.failure()?.errorText}\n`));
    page.on("response", (r) => stack.log.push(`[response] ${r.status()} ${r.url()}\n`));
  }
  await page.waitForURL(new RegExp(`^${stack.siteUrl}/callback\\?`));
  await page.locator("#me").waitFor();
  assert.equal(await page.locator("#nickname").textContent(), NICKNAME);
  assert.match(await page.locator("#openid").textContent(), /\S{8,}/);
}

describe("interception: an unmodified site in chromium", () => {
  let stack;
  before(async () => { stack = await startInterceptStack(); });
  after(async () => { await stack?.close(); });

  it("redirect flow: site -> https://open.weixin.qq.com (wxemu) -> callback -> profile", async () => {
    const page = await stack.context.newPage();
    page.setDefaultTimeout(20_000);
    try {
      await page.goto(stack.siteUrl + "/login");
      await page.waitForURL(/^https:\/\/open\.weixin\.qq\.com\/connect\/qrconnect\?/);
      // The page, served as open.weixin.qq.com, finds the desktop client (fast login
      // with Origin https://open.weixin.qq.com) and offers 允许.
      assert.equal(await page.title(), "微信登录");
      await page.locator("#fast_login_btn").click();
      await assertLoggedIn(stack, page);
      await screenshot(page, "intercept-redirect");
    } catch (e) {
      e.message += `\n--- process output ---\n${stack.log.join("")}`;
      throw e;
    } finally {
      await page.close();
    }
  });

  it("embedded flow: wxLogin.js from https://res.wx.qq.com frames open.weixin.qq.com", async () => {
    const page = await stack.context.newPage();
    page.setDefaultTimeout(20_000);
    try {
      await page.goto(stack.siteUrl + "/embedded");
      const frame = page.locator("#login_container iframe");
      assert.match(await frame.getAttribute("src"), /^https:\/\/open\.weixin\.qq\.com\/connect\/qrconnect\?/);
      await page.frameLocator("#login_container iframe").locator("#fast_login_btn").click();
      await assertLoggedIn(stack, page);
      await screenshot(page, "intercept-embedded");
    } catch (e) {
      e.message += `\n--- process output ---\n${stack.log.join("")}`;
      throw e;
    } finally {
      await page.close();
    }
  });

  it("the proxy serves its PAC file (intercepted hosts only) on loopback", async () => {
    const res = await fetch(`http://127.0.0.1:${stack.proxyPort}/proxy.pac`);
    assert.equal(res.status, 200);
    const pac = await res.text();
    assert.match(pac, /"open\.weixin\.qq\.com"/);
  });
});

describe("interception: hosts mode in chromium (names resolved to --intercept-port)", () => {
  let stack;
  before(async () => { stack = await startInterceptStack({ mode: "hosts" }); });
  after(async () => { await stack?.close(); });

  it("redirect flow logs in with no proxy in the browser", async () => {
    const page = await stack.context.newPage();
    page.setDefaultTimeout(20_000);
    try {
      await page.goto(stack.siteUrl + "/login");
      await page.waitForURL(/^https:\/\/open\.weixin\.qq\.com\/connect\/qrconnect\?/);
      await page.locator("#fast_login_btn").click();
      await assertLoggedIn(stack, page);
    } catch (e) {
      e.message += `\n--- process output ---\n${stack.log.join("")}`;
      throw e;
    } finally {
      await page.close();
    }
  });
});
