// Shared by the desktop end-to-end suites: starting the app with its log
// followed line by line, real TLS requests to it, and X11 helpers (xdotool,
// xwininfo, ImageMagick's import) for windows, input and screenshots.
import { spawn, execFileSync } from "node:child_process";
import fs from "node:fs";
import https from "node:https";
import net from "node:net";
import path from "node:path";
import { fileURLToPath } from "node:url";

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
export const BIN = process.env.WXEMU_DESKTOP_BIN ||
  path.join(process.env.CARGO_TARGET_DIR || path.join(ROOT, "target"), "debug/wxemu-desktop");
export const SHOTS = path.join(ROOT, "artifacts/screenshots");
export const HOST = "localhost.weixin.qq.com";
export const ORIGIN = "https://open.weixin.qq.com";
export const CONFIRM_TITLE = "微信 WeChat";
export const DASHBOARD_TITLE = "wxemu 控制台 Dashboard";
export const WELCOME_TITLE = "欢迎使用 wxemu Welcome";

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// The app's log, line by line, with waiters for lines to come.
export class Log {
  constructor() { this.lines = []; this.waiters = []; }
  push(line) {
    this.lines.push(line);
    for (const w of [...this.waiters]) {
      if (w.re.test(line)) { this.waiters.splice(this.waiters.indexOf(w), 1); w.resolve(line); }
    }
  }
  // Resolves with the next line matching `re` (from now on); the test
  // runner's own timeout bounds the wait.
  next(re) { return new Promise((resolve) => this.waiters.push({ re, resolve })); }
  save(name) {
    fs.mkdirSync(path.join(ROOT, "artifacts"), { recursive: true });
    fs.writeFileSync(path.join(ROOT, "artifacts", name), this.lines.join("\n") + "\n");
  }
}

// Starts `program args` (the app, or a wrapper that execs it) with its
// stdout and stderr fed to `log`.
export function startApp(log, args, { program = BIN, env = {} } = {}) {
  const child = spawn(program, args, {
    env: { ...process.env, RUST_LOG: "wxemu=info,wxemu_desktop=info", NO_COLOR: "1", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let buf = "";
  const feed = (chunk) => {
    buf += chunk;
    let i;
    while ((i = buf.indexOf("\n")) >= 0) { log.push(buf.slice(0, i).replace(/\x1b\[[0-9;]*m/g, "")); buf = buf.slice(i + 1); }
  };
  child.stdout.on("data", feed);
  child.stderr.on("data", feed);
  child.exited = new Promise((resolve) => child.on("exit", (code, signal) => {
    log.push(`[app exited code=${code} signal=${signal}]`);
    resolve(code);
  }));
  return child;
}

export function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.listen(0, "127.0.0.1", () => { const p = s.address().port; s.close(() => resolve(p)); });
    s.on("error", reject);
  });
}

// One request over real TLS to 127.0.0.1:port, validated against `ca` with
// the real name. A body that is not a string is sent as JSON; `headers`
// add to (or replace) the defaults. Resolves to status, headers and text.
export function request(port, ca, method, pathname, { body, headers = {} } = {}) {
  return new Promise((resolve, reject) => {
    const data = body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body);
    const req = https.request({
      host: "127.0.0.1", port, servername: HOST, ca, method, path: pathname,
      headers: { Host: `${HOST}:${port}`, ...(data ? { "Content-Type": "application/json", "Content-Length": Buffer.byteLength(data) } : {}), ...headers },
    }, (res) => {
      let text = "";
      res.setEncoding("utf8");
      res.on("data", (c) => { text += c; });
      res.on("end", () => resolve({ status: res.statusCode, headers: res.headers, text }));
    });
    req.on("error", reject);
    req.end(data);
  });
}

// A fast-login call as the login page makes it: POST from WeChat's origin, JSON as text/plain.
export async function post(port, ca, pathname, body) {
  const reply = await request(port, ca, "POST", pathname, {
    body, headers: { Origin: ORIGIN, "Content-Type": "text/plain;charset=UTF-8" },
  });
  return { status: reply.status, type: reply.headers["content-type"], json: JSON.parse(reply.text) };
}

export function x(cmd, ...args) {
  return execFileSync(cmd, args, { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).trim();
}

// Keys go to the focused window. Xvfb has no window manager to honour the
// app's focus request (_NET_ACTIVE_WINDOW), so X's default focus applies:
// the window under the pointer. Put the pointer on the window first.
export function pressKey(id, ...keys) {
  x("xdotool", "mousemove", "--window", id, "60", "15");
  for (const key of keys) x("xdotool", "key", key);
}

export function visibleWindows(title) {
  try {
    return x("xdotool", "search", "--onlyvisible", "--name", `^${title}$`).split("\n").filter(Boolean);
  } catch { return []; } // none: xdotool exits 1
}

// The visible X window titled `title` (the app shows it once rendered).
export async function visibleWindow(title) {
  for (;;) {
    const ids = visibleWindows(title);
    if (ids.length) return ids[ids.length - 1];
    await sleep(20);
  }
}

export async function gone(id) {
  for (;;) {
    try {
      const state = x("xwininfo", "-id", id);
      if (!/Map State: IsViewable/.test(state)) return;
    } catch { return; }
    await sleep(20);
  }
}

export function geometry(id) {
  const info = x("xwininfo", "-id", id);
  const num = (label) => Number(info.match(new RegExp(`${label}:\\s+(-?\\d+)`))[1]);
  return { x: num("Absolute upper-left X"), y: num("Absolute upper-left Y"), width: num("Width"), height: num("Height") };
}

export function screenshot(id, name) {
  fs.mkdirSync(SHOTS, { recursive: true });
  const file = path.join(SHOTS, name);
  execFileSync("import", ["-window", id, file]);
  return file;
}

// Waits until window `id` shows a page (not a blank, one-colour surface):
// the page has loaded and painted, so keys reach its focused element.
export async function painted(id) {
  for (;;) {
    const file = screenshot(id, ".painted-probe.png");
    const spread = Number(execFileSync("convert", [file, "-colorspace", "Gray", "-format", "%[fx:standard_deviation]", "info:"], { encoding: "utf8" }));
    fs.rmSync(file, { force: true });
    if (spread > 0.05) return;
    await sleep(200);
  }
}
