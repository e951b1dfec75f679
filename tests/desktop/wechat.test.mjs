// The WeChat-browser window under X with real input: the dashboard's H5
// tab opens a local page (served here, with the real jweixin from npm
// weixin-js-sdk) in the app's WeChat window. The page's backend (this
// test's server) signs wx.config with a ticket from wxemu's own
// cgi-bin/token and ticket/getticket, as a site's backend does; the page
// reports what happens to it back to this server. Checked: the window is
// WeChat's (User-Agent in the page and on the wire), wx.config passes
// through the injected bridge, "Share to Moments" in the "..." menu fires
// the page's handler, and a click on the pay sheet's Cancel answers the
// page's chooseWXPay with cancel. Then WeChat's hosts: the page's "log in"
// link goes to open.weixin.qq.com's web authorization (snsapi_base), which
// reaches wxemu through the window's proxy, its interception certificate
// allowed for that host because it chains to wxemu's interception CA, and
// comes back with a code; a page whose certificate chains to no CA of
// wxemu's is refused (no blanket "ignore TLS errors"). A picture of the window (menu open) goes
// to artifacts/screenshots/wechat-browser.png (docs/pictures/ in the README).
//
// Run: xvfb-run -a -s "-screen 0 1280x800x24" dbus-run-session -- \
//        node --test tests/desktop/wechat.test.mjs
import { test as nodeTest, before, after } from "node:test";
import { execFileSync } from "node:child_process";
import assert from "node:assert/strict";
import crypto from "node:crypto";
import fs from "node:fs";
import http from "node:http";
import https from "node:https";
import os from "node:os";
import path from "node:path";
import {
  BIN, DASHBOARD_TITLE, ROOT, Log, request, startApp, freePort, x, pressKey, visibleWindow, painted, screenshot, geometry, sleep, gone,
} from "./harness.mjs";

const test = (name, fn) => nodeTest(name, { timeout: 90_000 }, fn);
const JWEIXIN = fs.readFileSync(path.join(ROOT, "tests/sdk/node_modules/weixin-js-sdk/index.js"), "utf8");
const OA = "wx5e5e5e5e5e5e5e01";
const SECRET = "desktop-h5-secret";
const PAGE_TITLE = "H5 Shop";

let app, port, dataDir, ca, token, site, sitePort, stranger, strangerPort;
let strangerRequests = 0;
const log = new Log();
// What the page told its server, in order, with waiters.
const events = [];
const eventWaiters = [];
function pageEvent(name) {
  events.push(name);
  for (const w of [...eventWaiters]) {
    if (w.re.test(name)) { eventWaiters.splice(eventWaiters.indexOf(w), 1); w.resolve(name); }
  }
}
function nextEvent(re) {
  const seen = events.find((e) => re.test(e));
  if (seen) return Promise.resolve(seen);
  return new Promise((resolve) => eventWaiters.push({ re, resolve }));
}
const uaSeen = [];

// JSON in, JSON out (the control API, cgi-bin): status and parsed body.
const wxemu = (method, pathname, options) =>
  request(port, ca, method, pathname, options).then((r) => ({ status: r.status, json: r.text ? JSON.parse(r.text) : null }));
const control = (method, pathname, body) =>
  wxemu(method, `/__wxemu${pathname}`, { body, headers: { Authorization: `Bearer ${token}` } })
    .then((r) => { assert.ok(r.status < 300, `${method} ${pathname}: ${r.status} ${JSON.stringify(r.json)}`); return r.json; });

// The site's backend: a base token and a jsapi ticket from wxemu, and the
// signature over the page URL (WeChat's documented algorithm).
async function signFor(url) {
  const tokenReply = (await wxemu("GET", `/cgi-bin/token?grant_type=client_credential&appid=${OA}&secret=${SECRET}`)).json;
  assert.ok(tokenReply.access_token, JSON.stringify(tokenReply));
  const ticketReply = (await wxemu("GET", `/cgi-bin/ticket/getticket?access_token=${tokenReply.access_token}&type=jsapi`)).json;
  assert.equal(ticketReply.errcode, 0, JSON.stringify(ticketReply));
  const nonceStr = crypto.randomBytes(8).toString("hex");
  const timestamp = String(Math.floor(Date.now() / 1000));
  const signature = crypto.createHash("sha1")
    .update(`jsapi_ticket=${ticketReply.ticket}&noncestr=${nonceStr}&timestamp=${timestamp}&url=${url}`).digest("hex");
  return { appId: OA, timestamp, nonceStr, signature };
}

// The page: jweixin as a site bundles it, wx.config from its backend, a
// Moments share handler, and a Pay button (fixed, so the test knows where).
const PAGE = `<!doctype html><html><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width,initial-scale=1">
<title>${PAGE_TITLE}</title>
<style>
  body { font-family: sans-serif; margin: 0; padding: 16px; background: #fff; }
  h1 { font-size: 22px; } .price { color: #fa5151; font-size: 28px; }
  #pay { position: fixed; left: 20px; right: 20px; top: 300px; height: 60px; font-size: 20px;
         background: #07c160; color: #fff; border: 0; border-radius: 8px; }
</style>
<script>var module = { exports: {} };</script>
<script src="/jweixin.js"></script>
<script>
  var wx = module.exports;
  function report(e) { fetch("/report?e=" + encodeURIComponent(e)); }
  report("ua:" + navigator.userAgent);
  fetch("/sign?url=" + encodeURIComponent(location.href.split("#")[0]))
    .then(function (r) { return r.json(); })
    .then(function (cfg) {
      wx.config({ debug: false, appId: cfg.appId, timestamp: cfg.timestamp, nonceStr: cfg.nonceStr, signature: cfg.signature,
        jsApiList: ["chooseWXPay", "scanQRCode", "onMenuShareTimeline", "updateAppMessageShareData"] });
      wx.error(function (e) { report("error:" + e.errMsg); });
      wx.ready(function () {
        report("ready");
        wx.updateAppMessageShareData({ title: "今日特价 Today's deal", desc: "A fresh durian", link: location.href, imgUrl: "http://localhost/durian.png" });
        wx.onMenuShareTimeline({ title: "今日特价 Today's deal", link: location.href, imgUrl: "http://localhost/durian.png",
          success: function () { report("shared:timeline"); } });
      });
    });
  function pay() {
    wx.chooseWXPay({ timestamp: 1700000000, nonceStr: "n1", package: "prepay_id=wx201410272009395522657a690389285100",
      signType: "RSA", paySign: "sig",
      success: function () { report("pay:ok"); },
      cancel: function () { report("pay:cancel"); },
      fail: function (r) { report("pay:fail:" + r.errMsg); } });
  }
  function scan() {
    wx.scanQRCode({ needResult: 1,
      success: function (r) { report("scan:" + r.resultStr); },
      cancel: function () { report("scan:cancel"); },
      fail: function (r) { report("scan:fail:" + r.errMsg); } });
  }
</script></head>
<body><h1>鲜榴莲 Fresh durian</h1><p class="price">¥ 88.00</p><p>wxemu · WeChat window</p>
<button id="pay" onclick="pay()">微信支付 Pay</button>
<button id="scan" onclick="scan()" style="position:fixed;left:20px;right:20px;top:480px;height:50px">扫一扫 Scan</button>
<a id="login" style="position:fixed;left:20px;right:20px;top:400px;height:50px;line-height:50px;text-align:center;background:#eee">微信登录 Log in</a>
<script>
  // Web authorization inside WeChat, silent (snsapi_base), back to this site.
  document.getElementById("login").href = "https://open.weixin.qq.com/connect/oauth2/authorize?appid=${OA}&redirect_uri=" +
    encodeURIComponent(location.origin + "/back") + "&response_type=code&scope=snsapi_base&state=desk1#wechat_redirect";
</script></body></html>`;
// Where web authorization lands.
const BACK = `<!doctype html><html><head><meta charset="utf-8"><title>Back</title></head><body>Logged in</body></html>`;

before(async () => {
  assert.ok(fs.existsSync(BIN), `build the app first: ${BIN}`);
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "wxemu-desktop-wechat-"));
  fs.writeFileSync(path.join(dataDir, "config.toml"), [
    "[[apps]]", `appid = "${OA}"`, 'kind = "official_account"', `secret = "${SECRET}"`, 'name = "H5 Shop"',
    'js_domains = ["localhost"]', 'oauth_domains = ["localhost"]', "",
  ].join("\n"));
  sitePort = await freePort();
  site = http.createServer(async (req, res) => {
    const url = new URL(req.url, `http://localhost:${sitePort}`);
    if (url.pathname === "/report") { pageEvent(url.searchParams.get("e")); res.writeHead(204); return res.end(); }
    if (url.pathname === "/jweixin.js") { res.writeHead(200, { "content-type": "application/javascript" }); return res.end(JWEIXIN); }
    if (url.pathname === "/sign") {
      try {
        const cfg = await signFor(url.searchParams.get("url"));
        res.writeHead(200, { "content-type": "application/json" });
        return res.end(JSON.stringify(cfg));
      } catch (e) { res.writeHead(500); return res.end(String(e)); }
    }
    if (url.pathname === "/back") {
      pageEvent(`back:${url.search}`);
      res.writeHead(200, { "content-type": "text/html; charset=utf-8" });
      return res.end(BACK);
    }
    if (url.pathname === "/shop.html") {
      uaSeen.push(req.headers["user-agent"] || "");
      res.writeHead(200, { "content-type": "text/html; charset=utf-8" });
      return res.end(PAGE);
    }
    res.writeHead(404); res.end();
  });
  await new Promise((resolve) => site.listen(sitePort, "127.0.0.1", resolve));

  // An HTTPS site with a self-signed certificate: not wxemu's.
  const keys = path.join(dataDir, "stranger");
  fs.mkdirSync(keys);
  execFileSync("openssl", ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=localhost",
    "-addext", "subjectAltName=DNS:localhost", "-keyout", path.join(keys, "key.pem"), "-out", path.join(keys, "cert.pem")],
  { stdio: "ignore" });
  strangerPort = await freePort();
  stranger = https.createServer({ key: fs.readFileSync(path.join(keys, "key.pem")), cert: fs.readFileSync(path.join(keys, "cert.pem")) },
    (req, res) => { strangerRequests += 1; res.end("should never be seen"); });
  await new Promise((resolve) => stranger.listen(strangerPort, "127.0.0.1", resolve));

  port = await freePort();
  const started = log.next(/wxemu server started/);
  app = startApp(log, ["--port", String(port), "--data-dir", dataDir, "--no-welcome", "--dashboard"]);
  await started;
  ca = fs.readFileSync(path.join(dataDir, "ca.pem"));
  token = fs.readFileSync(path.join(dataDir, "control-token"), "utf8").trim();
});

after(() => {
  if (app && app.exitCode === null) app.kill("SIGKILL");
  site?.close();
  stranger?.close();
  log.save("desktop-wechat.log");
  if (dataDir) fs.rmSync(dataDir, { recursive: true, force: true });
});

function click(id, px, py) {
  x("xdotool", "mousemove", "--window", id, String(Math.round(px)), String(Math.round(py)), "click", "1");
}

test("WeChat window: opened from the dashboard; wx.config passes; Share to Moments fires the page's handler; the pay sheet's Cancel answers cancel; open.weixin.qq.com reaches wxemu, a stranger's certificate is refused", async () => {
  const dashboard = await visibleWindow(DASHBOARD_TITLE);
  await painted(dashboard);
  // Keyboard: Tab past the language button and the eight tabs before "H5
  // pages", open it (its URL field takes the focus), type, Enter.
  pressKey(dashboard, ...Array(10).fill("Tab"), "Return");
  await sleep(400);
  const url = `http://localhost:${sitePort}/shop.html`;
  x("xdotool", "key", "ctrl+a");
  x("xdotool", "type", "--delay", "10", url);
  const opened = log.next(/WeChat window opened/);
  x("xdotool", "key", "Return");
  await opened;

  const ready = await nextEvent(/^(ready|error:)/);
  assert.equal(ready, "ready", `wx.config failed in the WeChat window: ${ready}`);
  const ua = events.find((e) => e.startsWith("ua:"));
  assert.match(ua, /MicroMessenger\/8\.0\.\d+/, "the page sees WeChat's User-Agent");
  assert.match(ua, /iPhone/);
  assert.ok(uaSeen.every((u) => /MicroMessenger\//.test(u)) && uaSeen.length > 0, `the server sees it too: ${uaSeen}`);
  const pages = await control("GET", "/h5/pages");
  const verified = (pages.pages || pages).find((p) => p.app_id === OA);
  assert.ok(verified, `the page verified: ${JSON.stringify(pages)}`);
  assert.equal(verified.url, url);

  const win = await visibleWindow(`${PAGE_TITLE} · 微信 WeChat`);
  await painted(win);
  const { width, height } = geometry(win);

  // "...", top right of the title bar: the share menu.
  click(win, width - 22, 22);
  await sleep(500);
  console.log(`screenshot: ${screenshot(win, "wechat-browser.png")}`);
  // "分享到朋友圈 Share to Moments", the second tile.
  click(win, 108 + 36, height - 200 + 40 + 28);
  assert.equal(await nextEvent(/^shared:/), "shared:timeline");
  await sleep(300);
  screenshot(win, "wechat-browser-shared.png");
  // Close the card (a tap outside it), then Pay: nothing is queued, so the
  // pay sheet asks the person.
  click(win, width / 2, height - 30);
  await sleep(300);
  const asked = log.next(/WeChat window: asking the person/);
  click(win, width / 2, 330);
  await asked;
  await sleep(500);
  screenshot(win, "wechat-pay-sheet.png");
  // "取消 Cancel", the sheet's bottom button.
  click(win, width / 2, height - 32);
  assert.equal(await nextEvent(/^pay:/), "pay:cancel");

  const journal = await control("GET", "/journal?endpoint=h5");
  const calls = journal.entries.filter((e) => e.path === "/h5/call").map((e) => e.body && e.body.api);
  const shared = journal.entries.find((e) => e.path === "/h5/call" && e.body && e.body.api === "onMenuShareTimeline");
  assert.ok(shared, `journal: ${calls}`);
  assert.equal(shared.body.args.title, "今日特价 Today's deal", "the page's handler's share data");
  assert.ok(calls.includes("chooseWXPay"), `journal: ${calls}`);

  // Scan: the sheet's OK sends the text it shows (the default result).
  const scanAsked = log.next(/WeChat window: asking the person .*api=scanQRCode/);
  click(win, width / 2, 505);
  await scanAsked;
  await sleep(500);
  click(win, width / 2, height - 88);
  assert.equal(await nextEvent(/^scan:/), "scan:https://weixin.qq.com/r/wxemu-scan");

  // WeChat's host through the window's proxy, trusted for this window only.
  const allowed = log.next(/wxemu's certificate allowed for this host host=open\.weixin\.qq\.com/);
  click(win, width / 2, 425);
  await allowed;
  const back = new URLSearchParams((await nextEvent(/^back:/)).slice("back:".length));
  assert.match(back.get("code") || "", /^[A-Za-z0-9_-]{16,}$/, `a code came back: ${back}`);
  assert.equal(back.get("state"), "desk1");
  const authorize = (await control("GET", "/journal")).entries.find((e) => e.path === "/connect/oauth2/authorize");
  assert.ok(authorize, "wxemu answered open.weixin.qq.com's authorize");

  // The title bar's close button (on the page web authorization came back
  // to) closes the window.
  await visibleWindow("Back · 微信 WeChat");
  await sleep(300);
  click(win, 22, 22);
  await gone(win);
  await sleep(1200); // the H5 tab's refresh
  console.log(`screenshot: ${screenshot(dashboard, "dashboard-h5.png")}`);

  // A certificate that chains to no CA of wxemu's: refused, never loaded.
  // (A second launch with --wechat opens the window in the running app.)
  const refused = log.next(/an untrusted certificate, not wxemu's host=localhost/);
  const second = startApp(log, ["--port", String(port), "--data-dir", dataDir, "--wechat", `https://localhost:${strangerPort}/`]);
  assert.equal(await second.exited, 0);
  await refused;
  assert.equal(strangerRequests, 0, "the stranger's page was not requested");
});
