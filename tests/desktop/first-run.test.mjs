// First run, end to end under X (Xvfb) with real X input: an untrusted data
// directory opens the welcome window; its Trust button installs the CA into
// every store and reports each; "Open the demo" opens the demo URL in the
// default browser; a trusted data directory starts straight to the tray;
// the dashboard's Certificate tab removes the CA again.
//
// System state: the system trust store is really written
// (update-ca-certificates), but only inside a private mount namespace
// (unshare -m) in which /usr/local/share/ca-certificates and /etc/ssl/certs
// are bind mounts of copies in a temporary directory, so the machine's own
// store never changes. The NSS store is a database in a temporary HOME.
//
// THE ELEVATION STEP IS STUBBED: WXEMU_TEST_ELEVATE=direct makes the app
// start its trust helper directly (this test runs as root) instead of
// through pkexec's administrator prompt. Everything else is the real path:
// the same helper process, the same stores, the same report lines.
//
// Run (as root): xvfb-run -a -s "-screen 0 1280x800x24" dbus-run-session -- node --test tests/desktop/
import { test as nodeTest, before, after } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { createRequire } from "node:module";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import {
  BIN, ROOT, CONFIRM_TITLE, DASHBOARD_TITLE, WELCOME_TITLE, HOST, Log, startApp, freePort, post, x, pressKey, sleep,
  visibleWindow, visibleWindows, screenshot, painted,
} from "./harness.mjs";

const test = (name, fn) => nodeTest(name, { timeout: 90_000, skip: skipReason() }, fn);

function skipReason() {
  if (process.getuid() !== 0) return "needs root (a private mount namespace for the system trust store)";
  if (!fs.existsSync("/usr/local/share/ca-certificates")) return "no Debian system trust store";
  return false;
}

const log = new Log();
let work, home, dataDir, port, app, browserLog;

// The app inside a fresh private mount namespace over the saved store
// copies (the same copies every time, so an install persists across runs).
async function startInNamespace(args, env = {}) {
  // One instance per session: a previous test's app that failed must go first.
  if (app && app.exitCode === null) { app.kill("SIGKILL"); await app.exited; }
  const mounts = [
    `mount --bind ${work}/anchors /usr/local/share/ca-certificates`,
    `mount --bind ${work}/certs /etc/ssl/certs`,
    'exec "$0" "$@"',
  ].join(" && ");
  return startApp(log, ["--mount", "--propagation", "private", "--", "sh", "-c", mounts, BIN, ...args], {
    program: "unshare",
    env: {
      HOME: home, XDG_CONFIG_HOME: path.join(home, ".config"), BROWSER: path.join(work, "browser"),
      WXEMU_TEST_ELEVATE: "direct", ...env,
    },
  });
}

// A command in the same kind of namespace (to look at the store as the app sees it).
function inNamespace(...command) {
  const mounts = `mount --bind ${work}/anchors /usr/local/share/ca-certificates && mount --bind ${work}/certs /etc/ssl/certs && exec "$0" "$@"`;
  return execFileSync("unshare", ["--mount", "--propagation", "private", "--", "sh", "-c", mounts, ...command],
    { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
}

function nssList() {
  return execFileSync("certutil", ["-L", "-d", `sql:${home}/.pki/nssdb`], { encoding: "utf8" });
}

const checkLogin = (ca) => post(port, ca, "/api/check-login", {
  apiname: "qrconnectchecklogin",
  jsdata: { appid: "wxfirstrun", scope: "snsapi_login", redirect_uri: "https://example.com/cb", state: "s" },
});

before(() => {
  if (skipReason()) return;
  work = fs.mkdtempSync(path.join(os.tmpdir(), "wxemu-first-run-"));
  execFileSync("cp", ["-a", "/usr/local/share/ca-certificates", `${work}/anchors`]);
  execFileSync("cp", ["-a", "/etc/ssl/certs", `${work}/certs`]);
  home = path.join(work, "home");
  dataDir = path.join(work, "data");
  fs.mkdirSync(path.join(home, ".pki/nssdb"), { recursive: true });
  execFileSync("certutil", ["-N", "-d", `sql:${home}/.pki/nssdb`, "--empty-password"]);
  // The default browser ($BROWSER): records the URL.
  browserLog = path.join(work, "browser.log");
  fs.writeFileSync(path.join(work, "browser"), `#!/bin/sh\necho "$1" >> '${browserLog}'\n`, { mode: 0o755 });
});

after(() => {
  if (app && app.exitCode === null) app.kill("SIGKILL");
  log.save("desktop-first-run.log");
  if (work) fs.rmSync(work, { recursive: true, force: true });
});

async function stopApp() {
  app.kill("SIGTERM");
  assert.equal(await app.exited, 0, "SIGTERM quits cleanly");
}

test("Untrusted data dir: the welcome window opens; Trust reports each store; Open the demo opens the browser", async () => {
  port = await freePort();
  const started = log.next(/wxemu server started/);
  const untrusted = log.next(/the CA is not trusted: opening the welcome window/);
  app = await startInNamespace(["--port", String(port), "--data-dir", dataDir]);
  await started;
  await untrusted;
  const id = await visibleWindow(WELCOME_TITLE);
  await painted(id);
  await sleep(300); // the icon, before the picture
  console.log(`screenshot: ${screenshot(id, "welcome.png")}`);
  const ca = fs.readFileSync(path.join(dataDir, "ca.pem"));
  // Before: neither store trusts the CA.
  assert.throws(() => inNamespace("curl", "-sS", "--resolve", `${HOST}:${port}:127.0.0.1`, `https://${HOST}:${port}/`), /certificate/i);
  assert.doesNotMatch(nssList(), /wxemu local CA/);

  // Trust has the focus (autofocus): Enter, with real X keyboard input.
  const system = log.next(/trust store store=system.* outcome=(\w+)/);
  const nss = log.next(/trust store store=NSS .*\.pki\/nssdb.* outcome=(\w+)/);
  pressKey(id, "Return");
  assert.match(await system, /outcome=done/);
  assert.match(await nss, /outcome=done/);
  await sleep(800);
  console.log(`screenshot: ${screenshot(id, "welcome-trusted.png")}`);
  // After: curl with the system store (no --cacert) and NSS both trust it.
  const page = inNamespace("curl", "-sS", "-o", "/dev/null", "-w", "%{http_code}", "--resolve", `${HOST}:${port}:127.0.0.1`, `https://${HOST}:${port}/`);
  assert.match(page, /^\d{3}$/, "TLS verified against the system store");
  assert.match(nssList(), /wxemu local CA \w+\s+C,,/);
  // The server still answers over real TLS.
  assert.equal((await checkLogin(ca)).json.errcode, 0);

  // Open the demo: Tab to the second button, Enter; the app hands the URL to $BROWSER.
  const opened = log.next(/opened in the default browser/);
  pressKey(id, "Tab", "Return");
  await opened;
  for (let i = 0; !fs.existsSync(browserLog) && i < 100; i++) await sleep(50);
  assert.equal(fs.readFileSync(browserLog, "utf8").trim(), `https://${HOST}:${port}/demo/`);
  await stopApp();
});

test("Trusted data dir: the app starts straight to the tray, no welcome window", async () => {
  const trusted = log.next(/the CA is trusted: starting to the tray/);
  app = await startInNamespace(["--port", String(port), "--data-dir", dataDir]);
  await trusted;
  await sleep(1000);
  assert.deepEqual(visibleWindows(WELCOME_TITLE), [], "no welcome window");
  assert.deepEqual(visibleWindows(DASHBOARD_TITLE), [], "no dashboard either: tray only");
  assert.equal(app.exitCode, null);
  await stopApp();
});

test("The demo 'Open the demo' opened: Chromium (trusting the CA through the NSS store Trust wrote, no flags) logs in, the app's own confirm window allows, the profile shows", async () => {
  // The browser the browser tests use (tests/browser's playwright-core, Debian's chromium).
  const { chromium } = createRequire(path.join(ROOT, "tests/browser/package.json"))("playwright-core");
  const demoUrl = fs.readFileSync(browserLog, "utf8").trim();
  const trusted = log.next(/the CA is trusted: starting to the tray/);
  app = await startInNamespace(["--port", String(port), "--data-dir", dataDir]);
  await trusted;
  const browser = await chromium.launchPersistentContext(path.join(work, "chromium"), {
    executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
    headless: true,
    env: { ...process.env, HOME: home },
    args: ["--no-sandbox", "--disable-gpu", "--no-first-run", `--host-resolver-rules=MAP ${HOST} 127.0.0.1`],
    viewport: { width: 1000, height: 720 },
  });
  try {
    const page = await browser.newPage();
    page.setDefaultTimeout(30_000);
    await page.goto(demoUrl);
    await page.locator("#login-redirect").click();
    await page.locator("#fast_login_btn").click();
    // The person answers in the app's confirm window: Enter is Allow.
    const confirm = await visibleWindow(CONFIRM_TITLE);
    await painted(confirm);
    pressKey(confirm, "Return");
    await page.waitForURL(`${demoUrl}profile.html`);
    await page.locator("#profile").waitFor({ state: "visible" });
    assert.equal(await page.locator("#nickname").textContent(), "微信测试用户");
    await page.screenshot({ path: path.join(ROOT, "artifacts/screenshots/demo-profile-from-app.png") });
  } finally {
    await browser.close();
  }
  await stopApp();
});

test("Dashboard Certificate tab: each store's status, and Remove takes the CA out of every store", async () => {
  const trusted = log.next(/the CA is trusted: starting to the tray/);
  app = await startInNamespace(["--port", String(port), "--data-dir", dataDir, "--dashboard"]);
  await trusted;
  const id = await visibleWindow(DASHBOARD_TITLE);
  await painted(id);
  await sleep(1000); // its first status call
  // Keyboard only: Tab past the language button and the first four tabs to
  // "Certificate", open it, then Tab past Journal, QR, Web WeChat and H5 to Trust, Remove.
  pressKey(id, "Tab", "Tab", "Tab", "Tab", "Tab", "Tab", "Return");
  await sleep(700);
  console.log(`screenshot: ${screenshot(id, "dashboard-certificate.png")}`);
  const system = log.next(/trust store store=system.* outcome=(\w+).*Uninstall/);
  const nss = log.next(/trust store store=NSS .*\.pki\/nssdb.* outcome=(\w+).*Uninstall/);
  pressKey(id, "Tab", "Tab", "Tab", "Tab", "Tab", "Tab", "Return");
  assert.match(await system, /outcome=done/);
  assert.match(await nss, /outcome=done/);
  assert.doesNotMatch(nssList(), /wxemu local CA/);
  assert.throws(() => inNamespace("curl", "-sS", "--resolve", `${HOST}:${port}:127.0.0.1`, `https://${HOST}:${port}/`), /certificate/i);
  await stopApp();
});
