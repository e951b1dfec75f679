// End-to-end test of the desktop app under X (Xvfb in CI): real TLS to the
// embedded server, a real confirm window, real X input (XTEST pointer and
// keyboard through xdotool), a real close request (WM_DELETE_WINDOW).
//
// Run: xvfb-run -a -s "-screen 0 1280x800x24" dbus-run-session -- \
//        node --test tests/desktop/
// Needs target/debug/wxemu-desktop (or WXEMU_DESKTOP_BIN), xdotool,
// xwininfo, ImageMagick's import.
import { test as nodeTest, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawn, execFileSync } from "node:child_process";
import fs from "node:fs";
import https from "node:https";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const BIN = process.env.WXEMU_DESKTOP_BIN || path.join(ROOT, "target/debug/wxemu-desktop");
const SHOTS = path.join(ROOT, "artifacts/screenshots");
const HOST = "localhost.weixin.qq.com";
const ORIGIN = "https://open.weixin.qq.com";
const CONFIRM_TITLE = "微信 WeChat";
const DASHBOARD_TITLE = "wxemu 控制台 Dashboard";
const DECISION_TIMEOUT = "6s";

// Every step waits for something that must happen; a hang fails the test.
const test = (name, fn) => nodeTest(name, { timeout: 60_000 }, fn);

let app, port, dataDir, ca;
const log = [];
const waiters = [];

function onLine(line) {
  log.push(line);
  for (const w of [...waiters]) {
    if (w.re.test(line)) { waiters.splice(waiters.indexOf(w), 1); w.resolve(line); }
  }
}

// Resolves with the next log line matching `re` (from now on); the test
// runner's own timeout bounds the wait.
function nextLine(re) {
  return new Promise((resolve) => waiters.push({ re, resolve }));
}

function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.listen(0, "127.0.0.1", () => { const p = s.address().port; s.close(() => resolve(p)); });
    s.on("error", reject);
  });
}

function startApp(args) {
  const child = spawn(BIN, args, {
    env: { ...process.env, RUST_LOG: "wxemu=info,wxemu_desktop=info", NO_COLOR: "1" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let buf = "";
  const feed = (chunk) => {
    buf += chunk;
    let i;
    while ((i = buf.indexOf("\n")) >= 0) { onLine(buf.slice(0, i).replace(/\x1b\[[0-9;]*m/g, "")); buf = buf.slice(i + 1); }
  };
  child.stdout.on("data", feed);
  child.stderr.on("data", feed);
  return child;
}

// POST over real TLS, validated against wxemu's CA with the real name.
function post(pathname, body) {
  return new Promise((resolve, reject) => {
    const data = JSON.stringify(body);
    const req = https.request({
      host: "127.0.0.1", port, servername: HOST, ca, method: "POST", path: pathname,
      headers: { Host: `${HOST}:${port}`, Origin: ORIGIN, "Content-Type": "text/plain;charset=UTF-8", "Content-Length": Buffer.byteLength(data) },
    }, (res) => {
      let text = "";
      res.setEncoding("utf8");
      res.on("data", (c) => { text += c; });
      res.on("end", () => resolve({ status: res.statusCode, type: res.headers["content-type"], json: JSON.parse(text) }));
    });
    req.on("error", reject);
    req.end(data);
  });
}

const target = { appid: "wxdesktope2e", scope: "snsapi_login", redirect_uri: "https://shop.example.com/wechat/callback", state: "st4te" };

// check-login, then authorize with the page position; returns the pending
// authorize reply. `afterCheckLogin` runs in between: where a person reads
// the page and clicks the fast-login button.
async function authorize(position, afterCheckLogin = async () => {}) {
  const check = await post("/api/check-login", { apiname: "qrconnectchecklogin", jsdata: target });
  assert.equal(check.json.errcode, 0, JSON.stringify(check.json));
  await afterCheckLogin();
  return post("/api/authorize", {
    apiname: "qrconnectfastauthorize",
    jsdata: { ...target, authorize_uuid: check.json.jsdata.authorize_uuid, data: JSON.stringify(position) },
  });
}

function x(cmd, ...args) {
  return execFileSync(cmd, args, { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).trim();
}

// Keys go to the focused window. Xvfb has no window manager to honour the
// app's focus request (_NET_ACTIVE_WINDOW), so X's default focus applies:
// the window under the pointer. Put the pointer on the title bar first.
function pressKey(id, key) {
  x("xdotool", "mousemove", "--window", id, "60", "15");
  x("xdotool", "key", key);
}

// The visible X window titled `title` (the app shows it once rendered).
async function visibleWindow(title) {
  for (;;) {
    try {
      const ids = x("xdotool", "search", "--onlyvisible", "--name", `^${title}$`).split("\n").filter(Boolean);
      if (ids.length) return ids[ids.length - 1];
    } catch { /* none yet: xdotool exits 1 */ }
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function gone(id) {
  for (;;) {
    try {
      const state = x("xwininfo", "-id", id);
      if (!/Map State: IsViewable/.test(state)) return;
    } catch { return; }
    await new Promise((r) => setTimeout(r, 20));
  }
}

function geometry(id) {
  const info = x("xwininfo", "-id", id);
  const num = (label) => Number(info.match(new RegExp(`${label}:\\s+(-?\\d+)`))[1]);
  return { x: num("Absolute upper-left X"), y: num("Absolute upper-left Y"), width: num("Width"), height: num("Height") };
}

function screenshot(id, name) {
  fs.mkdirSync(SHOTS, { recursive: true });
  const file = path.join(SHOTS, name);
  execFileSync("import", ["-window", id, file]);
  return file;
}

// Where the confirm page draws its buttons (ui/desktop/confirm.css): two
// 128x32 buttons centred 14px apart, Allow on the right.
const ALLOW_BUTTON = { x: 180 + 7 + 64, y: 209 };

before(async () => {
  assert.ok(fs.existsSync(BIN), `build the app first: ${BIN}`);
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "wxemu-desktop-e2e-"));
  fs.writeFileSync(path.join(dataDir, "config.toml"), [
    "[[apps]]", `appid = "${target.appid}"`, 'name = "Demo Shop 演示商城"', 'callback_domains = ["shop.example.com"]', "",
  ].join("\n"));
  port = await freePort();
  const started = nextLine(/wxemu server started/);
  app = startApp(["--port", String(port), "--data-dir", dataDir, "--decision-timeout", DECISION_TIMEOUT]);
  app.on("exit", (code, signal) => onLine(`[app exited code=${code} signal=${signal}]`));
  await started;
  ca = fs.readFileSync(path.join(dataDir, "ca.pem"));
});

after(() => {
  if (app && app.exitCode === null) app.kill("SIGKILL");
  fs.mkdirSync(SHOTS, { recursive: true });
  fs.writeFileSync(path.join(ROOT, "artifacts/desktop-e2e.log"), log.join("\n") + "\n");
});

test("Allow: the confirm window appears where the page asked, on top; clicking Allow returns the redirect_url", async () => {
  const shown = nextLine(/confirm window shown/);
  const painted = nextLine(/confirm window painted/);
  // check-login loads the (hidden) confirm window; the person clicks after
  // the page is up, by which time it is ready.
  const loaded = nextLine(/confirm page loaded/);
  const reply = authorize({ x: 431, y: 207.5 }, () => loaded);
  const id = await visibleWindow(CONFIRM_TITLE);
  const ms = (line) => Number(line.match(/latency_ms=(\d+)/)[1]);
  console.log(`confirm window latency (request arrival → window mapped): ${ms(await shown)} ms`);
  console.log(`confirm window latency (request arrival → content painted): ${ms(await painted)} ms`);
  assert.deepEqual(geometry(id), { x: 431, y: 208, width: 360, height: 263 });
  // On top of other windows (the hint a window manager honours).
  assert.match(x("xprop", "-id", id, "_NET_WM_STATE"), /_NET_WM_STATE_ABOVE/);
  console.log(`screenshot: ${screenshot(id, "confirm.png")}`);
  x("xdotool", "mousemove", "--window", id, String(ALLOW_BUTTON.x), String(ALLOW_BUTTON.y), "click", "1");
  const r = await reply;
  assert.equal(r.type, "text/plain; charset=utf-8");
  assert.equal(r.json.errcode, 0, JSON.stringify(r.json));
  const url = new URL(r.json.jsdata.redirect_url);
  assert.equal(url.origin + url.pathname, target.redirect_uri);
  assert.match(url.searchParams.get("code"), /^\S+$/);
  assert.equal(url.searchParams.get("state"), target.state);
  await gone(id);
});

test("Deny: Esc in the confirm window answers 10050", async () => {
  const reply = authorize({ x: 2000, y: 2000 });
  const id = await visibleWindow(CONFIRM_TITLE);
  // Clamped to the 1280x800 screen.
  assert.deepEqual(geometry(id), { x: 1280 - 360, y: 800 - 263, width: 360, height: 263 });
  pressKey(id, "Escape");
  const r = await reply;
  assert.equal(r.json.errcode, 10050, JSON.stringify(r.json));
  await gone(id);
});

test("Closing the confirm window (WM_DELETE_WINDOW) answers 10050", async () => {
  const reply = authorize({ x: 10, y: 10 });
  const id = await visibleWindow(CONFIRM_TITLE);
  x("python3", path.join(ROOT, "tests/desktop/x11-close.py"), id);
  const r = await reply;
  assert.equal(r.json.errcode, 10050, JSON.stringify(r.json));
  await gone(id);
});

test("Two requests queue: both are shown one after the other; Enter allows", async () => {
  const first = authorize({ x: 100, y: 100 });
  const id1 = await visibleWindow(CONFIRM_TITLE);
  const second = authorize({ x: 600, y: 300 });
  pressKey(id1, "Return");
  assert.equal((await first).json.errcode, 0);
  // The next request takes the window, at its own position.
  const shown = nextLine(/confirm window shown.*x=600/);
  await shown;
  const id2 = await visibleWindow(CONFIRM_TITLE);
  assert.deepEqual(geometry(id2), { x: 600, y: 300, width: 360, height: 263 });
  pressKey(id2, "Escape");
  assert.equal((await second).json.errcode, 10050);
  await gone(id2);
});

test("No answer: the deadline ends the request with 10046 and the window goes away", async () => {
  const reply = authorize({ x: 300, y: 200 });
  const id = await visibleWindow(CONFIRM_TITLE);
  const r = await reply;
  assert.equal(r.json.errcode, 10046, JSON.stringify(r.json));
  await gone(id);
});

test("A second launch opens the dashboard in the first and exits", async () => {
  const second = startApp(["--port", String(port), "--data-dir", dataDir]);
  const code = await new Promise((resolve) => second.on("exit", resolve));
  assert.equal(code, 0);
  const id = await visibleWindow(DASHBOARD_TITLE);
  // Let the page fetch its status before the picture.
  await new Promise((r) => setTimeout(r, 1500));
  console.log(`screenshot: ${screenshot(id, "dashboard.png")}`);
  // The journal tab (its place in the tab bar), with this run's requests.
  x("xdotool", "mousemove", "--window", id, "414", "71", "click", "1");
  await new Promise((r) => setTimeout(r, 700));
  console.log(`screenshot: ${screenshot(id, "dashboard-journal.png")}`);
  assert.equal(app.exitCode, null, "the first instance still runs");
});

test("--quit stops the server cleanly and exits the app", async () => {
  const exited = new Promise((resolve) => app.on("exit", resolve));
  const quitter = startApp(["--quit"]);
  assert.equal(await new Promise((resolve) => quitter.on("exit", resolve)), 0);
  assert.equal(await exited, 0);
  assert.ok(log.some((l) => /wxemu server stopped/.test(l)), "server stopped before exit");
  await assert.rejects(post("/api/check-login", { apiname: "qrconnectchecklogin", jsdata: target }), /ECONNREFUSED/);
});

test("Cold start (--confirm-warm 0s): the window is created on demand and still shows the request", async () => {
  const started = nextLine(/wxemu server started/);
  app = startApp(["--port", String(port), "--data-dir", dataDir, "--decision-timeout", DECISION_TIMEOUT, "--confirm-warm", "0s"]);
  await started;
  const painted = nextLine(/confirm window painted/);
  const reply = authorize({ x: 500, y: 400 });
  const id = await visibleWindow(CONFIRM_TITLE);
  console.log(`cold confirm window latency (request arrival → content painted): ${(await painted).match(/latency_ms=(\d+)/)[1]} ms`);
  assert.deepEqual(geometry(id), { x: 500, y: 400, width: 360, height: 263 });
  pressKey(id, "Return");
  assert.equal((await reply).json.errcode, 0);
  await gone(id);
  const exited = new Promise((resolve) => app.on("exit", resolve));
  app.kill("SIGTERM");
  assert.equal(await exited, 0, "SIGTERM quits cleanly");
});

test("Port in use: the app starts anyway and its dashboard says so, with the port to use instead", async () => {
  const blocker = net.createServer();
  await new Promise((resolve) => blocker.listen(port, "127.0.0.1", resolve));
  try {
    const failed = nextLine(/already in use/);
    app = startApp(["--port", String(port), "--data-dir", dataDir]);
    const line = await failed;
    assert.match(line, new RegExp(`port ${port} .*already in use`));
    const id = await visibleWindow(DASHBOARD_TITLE);
    await new Promise((r) => setTimeout(r, 1500));
    console.log(`screenshot: ${screenshot(id, "dashboard-port-in-use.png")}`);
    assert.equal(app.exitCode, null, "the app keeps running in the tray");
    // The fix it offers: the "Use port N" button (its place on the page).
    const suggestion = Number(line.match(/--port (\d+)/)[1]);
    const started = nextLine(new RegExp(`wxemu server started port=${suggestion}`));
    x("xdotool", "mousemove", "--window", id, "96", "235", "click", "1");
    await started;
    const exited = new Promise((resolve) => app.on("exit", resolve));
    app.kill("SIGTERM");
    assert.equal(await exited, 0);
  } finally {
    blocker.close();
  }
});
