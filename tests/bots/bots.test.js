// The real Web WeChat bot libraries against wxemu (issue 11): itchat-uos
// (PyPI, in tests/bots/.venv) and wechat4u (npm, tests/bots/node_modules),
// each pointed at wxemu with its own base-URL knob only (see the bot
// scripts). Each bot logs in (this test scans and confirms the QR code as
// the phone, through `wxemu ctl` for one and the control API for the
// other), loads its contacts, sends a text to filehelper, receives a text
// injected through POST /__wxemu/webwx/messages, answers it and logs out.
// What the bot sent and received is then read back through
// GET /__wxemu/webwx/messages. Each library also runs unmodified (no
// base-URL knob) against the real hosts through wxemu's interception proxy
// (HTTPS_PROXY and the CAs from `wxemu trust env --intercept`).
//
// Run by scripts/test: node --test tests/bots/ (needs target/debug/wxemu).
"use strict";

const { test } = require("node:test");
const assert = require("node:assert/strict");
const { spawn, execFileSync } = require("node:child_process");
const fs = require("node:fs");
const https = require("node:https");
const net = require("node:net");
const os = require("node:os");
const path = require("node:path");
const readline = require("node:readline");
const crypto = require("node:crypto");

const HERE = __dirname;
const ROOT = path.resolve(HERE, "../..");
const TARGET = process.env.CARGO_TARGET_DIR || path.join(ROOT, "target");
const WXEMU = path.join(TARGET, "debug", "wxemu");
const PYTHON = path.join(HERE, ".venv", "bin", "python");

// Every wait below is bounded so a broken emulator fails the test instead
// of hanging the suite (the bound is a hang guard, not an assertion).
const STEP_LIMIT_MS = 90_000;

function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

async function waitForPort(port, child) {
  for (let i = 0; i < 400; i++) {
    if (child.exitCode !== null) throw new Error(`wxemu exited early (code ${child.exitCode})`);
    const ok = await new Promise((resolve) => {
      const socket = net.connect(port, "127.0.0.1");
      socket.once("connect", () => { socket.destroy(); resolve(true); });
      socket.once("error", () => resolve(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`wxemu did not listen on ${port}`);
}

/** wxemu serve in a fresh data dir; the QR codes wait for this test's phone. */
async function startWxemu({ proxy = false } = {}) {
  assert.ok(fs.existsSync(WXEMU), `${WXEMU} is missing: cargo build --bin wxemu first (scripts/test does)`);
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "wxemu-bots-"));
  const env = { ...process.env, WXEMU_DATA_DIR: tmp, RUST_LOG: "wxemu=info" };
  const port = await freePort();
  const log = [];
  // The proxy runs offline: a bot's request can only ever reach wxemu.
  const proxyPort = proxy ? await freePort() : undefined;
  const extra = proxy ? ["--proxy-port", String(proxyPort), "--proxy-offline"] : [];
  const child = spawn(WXEMU, ["serve", "--port", String(port), "--approve", "never", ...extra], { env, stdio: ["ignore", "pipe", "pipe"] });
  child.stdout.on("data", (d) => log.push(String(d)));
  child.stderr.on("data", (d) => log.push(String(d)));
  await waitForPort(port, child);
  if (proxy) await waitForPort(proxyPort, child);
  const ca = execFileSync(WXEMU, ["ca", "path"], { env }).toString().trim();
  const token = fs.readFileSync(path.join(tmp, "control-token"), "utf8").trim();
  return {
    port,
    proxyPort,
    url: `https://127.0.0.1:${port}`,
    ca,
    env,
    log,
    /** The control API, as a test's own code calls it. */
    control(method, pathAndQuery, body) {
      return request(port, ca, method, `/__wxemu${pathAndQuery}`, body, { authorization: `Bearer ${token}` });
    },
    /** `wxemu ctl ...`, as a CI shell step calls it. */
    ctl(...args) {
      return execFileSync(WXEMU, ["ctl", ...args], { env }).toString();
    },
    async close() {
      if (child.exitCode === null) {
        child.kill("SIGTERM");
        await new Promise((r) => child.once("exit", r));
      }
      fs.rmSync(tmp, { recursive: true, force: true });
    },
  };
}

function request(port, ca, method, pathAndQuery, body, headers = {}) {
  return new Promise((resolve, reject) => {
    const data = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
    const req = https.request(
      {
        host: "127.0.0.1",
        port,
        method,
        path: pathAndQuery,
        ca: fs.readFileSync(ca),
        headers: { ...headers, ...(data ? { "content-type": "application/json", "content-length": data.length } : {}) },
      },
      (res) => {
        const chunks = [];
        res.on("data", (c) => chunks.push(c));
        res.on("end", () => {
          const text = Buffer.concat(chunks).toString();
          let json;
          try { json = JSON.parse(text); } catch { json = undefined; }
          resolve({ status: res.statusCode, text, json });
        });
      },
    );
    req.on("error", reject);
    if (data) req.write(data);
    req.end();
  });
}

/** Runs a bot, hands each JSON event line to onEvent, resolves with all events at exit. */
function runBot(command, args, env, onEvent) {
  const child = spawn(command, args, { cwd: HERE, env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
  const events = [];
  const stderr = [];
  child.stderr.on("data", (d) => stderr.push(String(d)));
  const lines = readline.createInterface({ input: child.stdout });
  const handled = [];
  lines.on("line", (line) => {
    let event;
    try { event = JSON.parse(line); } catch { stderr.push(`(stdout) ${line}\n`); return; }
    events.push(event);
    handled.push(Promise.resolve().then(() => onEvent(event)).catch((e) => { child.kill("SIGKILL"); throw e; }));
  });
  const exited = new Promise((resolve, reject) => {
    const guard = setTimeout(() => { child.kill("SIGKILL"); reject(new Error(`bot did not finish in ${STEP_LIMIT_MS} ms; events: ${JSON.stringify(events)}\n${stderr.join("")}`)); }, STEP_LIMIT_MS);
    child.on("exit", async (code) => {
      clearTimeout(guard);
      try { await Promise.all(handled); } catch (e) { reject(e); return; }
      resolve({ code, events, stderr: stderr.join("") });
    });
  });
  return exited;
}

/** `wxemu trust env --intercept` for this wxemu: what a user would eval. */
function interceptEnv(emu) {
  const out = execFileSync(WXEMU, ["trust", "env", "--intercept", "--shell", "sh", "--proxy-port", String(emu.proxyPort)], { env: emu.env }).toString();
  const vars = {};
  for (const line of out.split("\n")) {
    const m = /^export ([A-Za-z_]+)='(.*)'$/.exec(line);
    if (m) vars[m[1]] = m[2];
  }
  assert.ok(vars.HTTPS_PROXY && vars.REQUESTS_CA_BUNDLE, out);
  return vars;
}

async function botScenario(t, { name, command, args, caEnv, scanWith, inject, readBack, background = () => false, proxy = false }) {
  const emu = await startWxemu({ proxy });
  t.after(() => emu.close());
  const nonce = crypto.randomBytes(4).toString("hex");
  let injected;
  // Pointed at wxemu with the library's own base-URL knob, or (proxy) not at
  // all: the real hosts, through the interception proxy.
  const botEnv = proxy ? { WXEMU_URL: "", ...interceptEnv(emu) } : { WXEMU_URL: emu.url, [caEnv]: emu.ca };
  const result = await runBot(command, args, botEnv, async (event) => {
    if (event.event === "uuid") {
      // The phone of the default account scans and confirms.
      await scanWith(emu, event.uuid);
    } else if (event.event === "sent") {
      injected = await inject(emu, `ping ${nonce}`);
    }
  });
  const byEvent = (name) => result.events.filter((e) => e.event === name);
  const context = `${name} exited ${result.code}; events ${JSON.stringify(result.events)}\n${result.stderr}\n--- wxemu ---\n${emu.log.join("")}`;
  assert.equal(result.code, 0, context);
  assert.deepEqual(byEvent("error"), [], context);

  const [login] = byEvent("login");
  assert.ok(login, context);
  assert.match(login.username, /^@[0-9a-f]{64}$/);
  const [contacts] = byEvent("contacts");
  assert.ok(contacts.friends.length >= 3, context);
  assert.ok(contacts.groups.length >= 1, context);
  assert.ok(contacts.mps.length >= 1, context);
  assert.ok(contacts.group_members.every((n) => n >= 3), context);
  const [sent] = byEvent("sent");
  assert.equal(sent.ret, 0, context);
  const [received] = byEvent("received");
  assert.equal(received.text, `ping ${nonce}`, context);
  assert.equal(received.from_user, injected.from, context);
  assert.equal(received.to_user, login.username, context);
  const [answered] = byEvent("answered");
  assert.equal(answered.ret, 0, context);
  assert.ok(byEvent("logout").length === 1, context);

  // What wxemu saw: the session ended by the bot's logout, and the whole
  // conversation in order.
  const { sessions, conversation } = await readBack(emu);
  const [session] = sessions.sessions;
  assert.equal(session.username, login.username);
  assert.equal(session.status, "ended");
  assert.equal(session.ended_reason, "logout");
  assert.equal(conversation.session, session.id);
  const texts = conversation.messages
    .filter((m) => m.type === 1 && !background(m))
    .map((m) => [m.direction, m.from === login.username ? "self" : m.from, m.to === login.username ? "self" : m.to, m.text]);
  assert.deepEqual(texts, [
    ["out", "self", "filehelper", sent.text],
    ["in", injected.from, "self", `ping ${nonce}`],
    ["out", "self", injected.from, `pong ${nonce}`],
  ]);
  return emu;
}

// itchat-uos's scenario, driven as a CI shell step would (`wxemu ctl`);
// uuids may begin with '-', hence "--".
const ITCHAT = {
  command: PYTHON,
  args: [path.join(HERE, "itchat_bot.py")],
  scanWith: async (emu, uuid) => {
    emu.ctl("scan", "--account", "default", "--", uuid);
    emu.ctl("confirm", "--", uuid);
  },
  // The friend writes and the test reads back through `wxemu ctl webwx`.
  inject: async (emu, text) => JSON.parse(emu.ctl("webwx", "send", "--from", "friend", "--", text)),
  readBack: async (emu) => ({
    sessions: JSON.parse(emu.ctl("webwx", "sessions")),
    conversation: JSON.parse(emu.ctl("webwx", "messages", "--session", "1")),
  }),
};

test("itchat-uos logs in, reads contacts, talks and logs out", async (t) => {
  assert.ok(fs.existsSync(PYTHON), `${PYTHON} is missing: scripts/test creates the venv (need_python_venv)`);
  await botScenario(t, { ...ITCHAT, name: "itchat", caEnv: "REQUESTS_CA_BUNDLE" });
});

test("itchat-uos, unmodified, does the same against the real hosts through HTTPS_PROXY", async (t) => {
  assert.ok(fs.existsSync(PYTHON), `${PYTHON} is missing: scripts/test creates the venv (need_python_venv)`);
  const emu = await botScenario(t, { ...ITCHAT, name: "itchat through the proxy", proxy: true });
  // Every call went to a real host name: login, home and push.
  const hostsOf = async (host) => JSON.parse(emu.ctl("journal", "--host", host)).entries.map((e) => e.path);
  assert.ok((await hostsOf("login.weixin.qq.com")).includes("/jslogin"));
  assert.ok((await hostsOf("wx.qq.com")).includes("/cgi-bin/mmwebwx-bin/webwxinit"));
  assert.ok((await hostsOf("webpush.wx.qq.com")).includes("/cgi-bin/mmwebwx-bin/synccheck"));
  assert.deepEqual(await hostsOf("127.0.0.1"), []);
  // What the dashboard shows: `wxemu ctl intercept` (GET /__wxemu/intercept).
  const status = JSON.parse(emu.ctl("intercept"));
  assert.equal(status.enabled, true);
  assert.equal(status.proxy.port, emu.proxyPort);
  assert.equal(status.proxy.offline, true);
  assert.ok(status.hosts.includes("webpush.wx.qq.com"));
});

// wechat4u's scenario, direct or through the proxy.
const WECHAT4U = {
  command: process.execPath,
  args: [path.join(HERE, "wechat4u_bot.js")],
  caEnv: "NODE_EXTRA_CA_CERTS",
  // wechat4u's own keep-alive: at login (then every 5 min) it sends
  // "心跳：<time>" to filehelper.
  background: (m) => m.direction === "out" && m.to === "filehelper" && m.text.startsWith("心跳："),
  scanWith: async (emu, uuid) => {
    for (const step of ["scan", "confirm"]) {
      const res = await emu.control("POST", `/qr/${encodeURIComponent(uuid)}/${step}`, step === "scan" ? { account: "default" } : {});
      assert.equal(res.status, 200, res.text);
    }
  },
  inject: async (emu, text) => {
    const res = await emu.control("POST", "/webwx/messages", { text, from: "friend" });
    assert.equal(res.status, 201, res.text);
    return res.json;
  },
  readBack: async (emu) => {
    const sessions = await emu.control("GET", "/webwx/sessions");
    assert.equal(sessions.status, 200, sessions.text);
    const id = sessions.json.sessions[0].id;
    const conv = await emu.control("GET", `/webwx/messages?session=${encodeURIComponent(id)}`);
    assert.equal(conv.status, 200, conv.text);
    return { sessions: sessions.json, conversation: conv.json };
  },
};

test("wechat4u logs in, reads contacts, talks and logs out", async (t) => {
  await botScenario(t, { ...WECHAT4U, name: "wechat4u" });
});

test("wechat4u, unmodified, does the same against the real hosts through HTTPS_PROXY", async (t) => {
  const emu = await botScenario(t, { ...WECHAT4U, name: "wechat4u through the proxy", proxy: true });
  const hostsOf = async (host) => (await emu.control("GET", `/journal?host=${host}`)).json.entries.map((e) => e.path);
  assert.ok((await hostsOf("login.wx.qq.com")).includes("/jslogin"));
  assert.ok((await hostsOf("wx.qq.com")).includes("/cgi-bin/mmwebwx-bin/webwxinit"));
  assert.ok((await hostsOf("webpush.wx.qq.com")).includes("/cgi-bin/mmwebwx-bin/synccheck"));
});
