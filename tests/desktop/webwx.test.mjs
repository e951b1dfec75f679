// The dashboard's Web WeChat panel under X with real input: a bot logs in
// over real TLS (jslogin, the phone's scan and confirm through the control
// API, the login poll, webwxnewloginpage, webwxinit) and talks; the person
// picks the tab, writes to the bot as a friend and logs the session out from
// the phone, with the keyboard in the app's window. What the panel did
// is read back from the control API (the same core state).
//
// Run: xvfb-run -a -s "-screen 0 1280x800x24" dbus-run-session -- \
//        node --test tests/desktop/webwx.test.mjs
import { test as nodeTest, before, after } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import {
  BIN, DASHBOARD_TITLE, Log, request as requestTo, startApp, freePort, x, pressKey, visibleWindow, painted, screenshot, sleep,
} from "./harness.mjs";

const test = (name, fn) => nodeTest(name, { timeout: 60_000 }, fn);
const CGI = "/cgi-bin/mmwebwx-bin";


let app, port, dataDir, ca, token, windowId;
const log = new Log();

const request = (method, pathname, options) => requestTo(port, ca, method, pathname, options);
const control = (method, pathname, body) =>
  request(method, `/__wxemu${pathname}`, { body, headers: { Authorization: `Bearer ${token}` } })
    .then((r) => { assert.ok(r.status < 300, `${method} ${pathname}: ${r.status} ${r.text}`); return JSON.parse(r.text); });
const field = (xml, name) => xml.match(new RegExp(`<${name}>([^<]*)</${name}>`))[1];

// A bot's QR login, the phone scanning and confirming through the control API.
async function botLogin() {
  const js = (await request("GET", "/jslogin?appid=wx782c26e4c19acffb&fun=new&lang=zh_CN")).text;
  const uuid = js.match(/uuid = "([^"]+)"/)[1];
  await control("POST", `/qr/${encodeURIComponent(uuid)}/scan`, {});
  await control("POST", `/qr/${encodeURIComponent(uuid)}/confirm`);
  let poll;
  do {
    poll = (await request("GET", `${CGI}/login?loginicon=true&uuid=${encodeURIComponent(uuid)}&tip=0&r=-1`)).text;
  } while (!poll.startsWith("window.code=200;"));
  const redirect = new URL(poll.match(/redirect_uri="([^"]+)"/)[1]);
  const page = await request("GET", redirect.pathname + redirect.search);
  const bot = { uin: field(page.text, "wxuin"), sid: field(page.text, "wxsid"), skey: field(page.text, "skey"), pass_ticket: field(page.text, "pass_ticket") };
  bot.base = { Uin: bot.uin, Sid: bot.sid, Skey: bot.skey, DeviceID: "e123456789012345" };
  const init = JSON.parse((await request("POST", `${CGI}/webwxinit?r=-1&pass_ticket=${bot.pass_ticket}`, { body: { BaseRequest: bot.base } })).text);
  assert.equal(init.BaseResponse.Ret, 0, JSON.stringify(init.BaseResponse));
  bot.me = init.User.UserName;
  return bot;
}

async function botSays(bot, text) {
  const id = String(Date.now()) + String(Math.floor(Math.random() * 1e4));
  const reply = JSON.parse((await request("POST", `${CGI}/webwxsendmsg?pass_ticket=${bot.pass_ticket}`, {
    body: { BaseRequest: bot.base, Scene: 0, Msg: { Type: 1, Content: text, FromUserName: bot.me, ToUserName: "filehelper", LocalID: id, ClientMsgId: id } },
  })).text);
  assert.equal(reply.BaseResponse.Ret, 0);
}

before(async () => {
  assert.ok(fs.existsSync(BIN), `build the app first: ${BIN}`);
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "wxemu-desktop-webwx-"));
  port = await freePort();
  const started = log.next(/wxemu server started/);
  app = startApp(log, ["--port", String(port), "--data-dir", dataDir, "--no-welcome", "--dashboard"]);
  await started;
  ca = fs.readFileSync(path.join(dataDir, "ca.pem"));
  token = fs.readFileSync(path.join(dataDir, "control-token"), "utf8").trim();
  windowId = await visibleWindow(DASHBOARD_TITLE);
  await painted(windowId);
});

after(() => {
  if (app && app.exitCode === null) app.kill("SIGKILL");
  log.save("desktop-webwx.log");
});

test("Web WeChat panel: the bot's session and messages show; a friend writes to it; the phone logs it out", async () => {
  const bot = await botLogin();
  const [session] = (await control("GET", "/webwx/sessions")).sessions;
  assert.equal(session.status, "live");
  await botSays(bot, "机器人上线了 bot online");

  // Keyboard only, as a person without a mouse: Tab past the language
  // button and the first seven tabs to "Web WeChat", open it; then Tab past
  // the "H5 pages" tab, "Log out (phone)" and the sender picker to the
  // message box, type, Enter.
  await sleep(1200); // the panel's refresh has seen the session
  pressKey(windowId, ...Array(9).fill("Tab"), "Return");
  await sleep(500);
  pressKey(windowId, "Tab", "Tab", "Tab", "Tab");
  x("xdotool", "type", "--delay", "20", "hello bot");

  x("xdotool", "key", "Return");
  let messages;
  for (;;) {
    messages = (await control("GET", `/webwx/messages?session=${session.id}`)).messages;
    if (messages.some((m) => m.direction === "in" && m.text === "hello bot")) break;
    await sleep(100);
  }
  const sent = messages.find((m) => m.text === "hello bot");
  assert.notEqual(sent.from, bot.me, "a friend wrote it, not the bot");
  assert.ok(messages.some((m) => m.direction === "out" && m.text === "机器人上线了 bot online"), "the bot's message is in the conversation");
  await sleep(300); // the chat view redraws on the event
  console.log(`screenshot: ${screenshot(windowId, "dashboard-webwx.png")}`);

  // "Log out (phone)", two fields back from the message box: the session
  // ends, as DELETE /webwx/sessions/{id} would.
  x("xdotool", "key", "shift+Tab", "shift+Tab", "Return");
  for (;;) {
    const now = (await control("GET", `/webwx/sessions/${session.id}`));
    if (now.status === "ended") break;
    await sleep(100);
  }
  const sync = (await request("GET", `${CGI}/synccheck?r=1&skey=${bot.skey}&sid=${bot.sid}&uin=${bot.uin}&deviceid=e1&synckey=1_1&_=1`)).text;
  assert.match(sync, /retcode:"1101"/, "the bot learns it was logged out");
});
