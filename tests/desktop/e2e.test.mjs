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
import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import {
  ROOT, BIN, CONFIRM_TITLE, DASHBOARD_TITLE, Log, startApp as start, freePort, post as postTo, x, pressKey,
  visibleWindow, gone, geometry, screenshot,
} from "./harness.mjs";

const DECISION_TIMEOUT = "6s";

// Every step waits for something that must happen; a hang fails the test.
const test = (name, fn) => nodeTest(name, { timeout: 60_000 }, fn);

let app, port, dataDir, ca;
const log = new Log();
const nextLine = (re) => log.next(re);
// This suite is about the confirm window and the dashboard: the first-run
// welcome window (first-run.test.mjs) stays closed.
const startApp = (args) => start(log, [...args, "--no-welcome"]);
const post = (pathname, body) => postTo(port, ca, pathname, body);

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
  await started;
  ca = fs.readFileSync(path.join(dataDir, "ca.pem"));
});

after(() => {
  if (app && app.exitCode === null) app.kill("SIGKILL");
  log.save("desktop-e2e.log");
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
  assert.ok(log.lines.some((l) => /wxemu server stopped/.test(l)), "server stopped before exit");
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
