// Pages inside WeChat's browser without a phone: the real jweixin (npm
// weixin-js-sdk 1.6.5, loaded by the test page as a site would) in Debian's
// chromium with wxemu's bridge injected before it. The page's backend signs
// wx.config with a real SDK reaching api.weixin.qq.com through wxemu's
// interception proxy (wechatpy's WeChatClient; node wechat-api's
// getJsConfig). Checked: wx.ready, config:invalid signature,
// config:invalid url domain, an API outside jsApiList, pay ok and cancel,
// a scan result, a share through the "..." menu.

import { describe, it, before, after } from "node:test";
import assert from "node:assert/strict";
import http from "node:http";
import https from "node:https";
import { execFileSync } from "node:child_process";
import { mkdtempSync, mkdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";
import { startStack, freePort, HOST, CHROMIUM, CHROMIUM_FLAGS } from "./harness.js";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..");
const SDK = path.join(ROOT, "tests", "sdk");
const JWEIXIN = readFileSync(path.join(SDK, "node_modules", "weixin-js-sdk", "index.js"), "utf8");
const OA = "wx0a0a0a0a0a0a0d0d";
const SECRET = "h5-secret";
const PAGE_HOST = "h5.example";

/** A control API call over TLS trusting only wxemu's CA. */
function control(stack, method, apiPath, body) {
  const token = readFileSync(path.join(stack.dataDir, "control-token"), "utf8").trim();
  const payload = body === undefined ? "" : JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = https.request(
      {
        host: "127.0.0.1", port: stack.wxemuPort, servername: HOST, ca: readFileSync(stack.ca), method,
        path: `/__wxemu${apiPath}`,
        headers: { host: `${HOST}:${stack.wxemuPort}`, authorization: `Bearer ${token}`, "content-type": "application/json" },
      },
      (res) => {
        let text = "";
        res.setEncoding("utf8");
        res.on("data", (d) => { text += d; });
        res.on("end", () => (res.statusCode >= 400 ? reject(new Error(`${apiPath}: ${text}`)) : resolve(text ? JSON.parse(text) : null)));
      },
    );
    req.on("error", reject);
    req.end(payload);
  });
}

/** The page's backend: a real SDK signs wx.config through the proxy. */
function sign(signer, url, env) {
  const out = signer === "wechatpy"
    ? execFileSync(path.join(SDK, ".venv", "bin", "python"), [path.join(SDK, "wechatpy_jsapi_sign.py"), OA, SECRET, url], { env })
    : execFileSync(process.execPath, [path.join(SDK, "wechat_api_js_config.js"), OA, SECRET, url], { env, cwd: SDK });
  return JSON.parse(out.toString());
}

const PAGE = `<!doctype html><html><head><meta charset="utf-8"><title>H5 shop</title>
<script>var module = { exports: {} };</script>
<script src="/jweixin.js"></script>
<script>
  window.wx = module.exports;
  window.result = { ready: false, error: null, shared: null };
  var params = new URLSearchParams(location.search);
  fetch("/sign?signer=" + params.get("signer") + "&url=" + encodeURIComponent(params.get("sign_href") ? location.href : location.href.split("#")[0]))
    .then(function (r) { return r.json(); })
    .then(function (cfg) {
      wx.config({ debug: false, appId: cfg.appId, timestamp: cfg.timestamp, nonceStr: cfg.nonceStr, signature: cfg.signature,
        jsApiList: ["chooseWXPay", "scanQRCode", "updateAppMessageShareData", "onMenuShareTimeline", "getNetworkType"] });
      wx.error(function (e) { window.result.error = e.errMsg; });
      wx.ready(function () {
        window.result.ready = true;
        wx.onMenuShareTimeline({ title: "今日特价", link: location.href, imgUrl: "https://h5.example/a.png",
          success: function () { window.result.shared = "timeline"; } });
      });
    });
  function call(api, args) {
    return new Promise(function (resolve) {
      var o = Object.assign({}, args || {});
      o.success = function (r) { resolve(r); };
      o.cancel = function (r) { resolve(r); };
      o.fail = function (r) { resolve(r); };
      wx[api](o);
    });
  }
</script></head><body>H5 shop</body></html>`;

describe("pages inside WeChat's browser: the real jweixin with wxemu's bridge", () => {
  let stack, site, browser, context, tmp, env;

  before(async () => {
    const proxyPort = await freePort();
    stack = await startStack({ approve: "auto", serveArgs: ["--proxy-port", String(proxyPort), "--proxy-offline"] });
    await control(stack, "POST", "/apps", { appid: OA, kind: "official_account", secret: SECRET, name: "H5 Shop", js_domains: [PAGE_HOST] });
    const interceptCa = execFileSync(stack.wxemuBin, ["ca", "path", "--intercept"], { env: { ...process.env, WXEMU_DATA_DIR: stack.dataDir } }).toString().trim();
    const proxy = `http://127.0.0.1:${proxyPort}`;
    // What `wxemu trust env --intercept` gives a backend.
    env = { ...process.env, HTTPS_PROXY: proxy, HTTP_PROXY: proxy, GLOBAL_AGENT_HTTP_PROXY: proxy, REQUESTS_CA_BUNDLE: interceptCa, NODE_EXTRA_CA_CERTS: interceptCa, NO_PROXY: "" };

    const sitePort = await freePort();
    site = http.createServer((req, res) => {
      const url = new URL(req.url, `http://${PAGE_HOST}`);
      if (url.pathname === "/jweixin.js") { res.writeHead(200, { "content-type": "application/javascript" }); return res.end(JWEIXIN); }
      if (url.pathname === "/sign") {
        try {
          const cfg = sign(url.searchParams.get("signer"), url.searchParams.get("url"), env);
          res.writeHead(200, { "content-type": "application/json" });
          return res.end(JSON.stringify(cfg));
        } catch (e) { res.writeHead(500); return res.end(String(e)); }
      }
      res.writeHead(200, { "content-type": "text/html; charset=utf-8" });
      res.end(PAGE);
    });
    await new Promise((resolve) => site.listen(sitePort, "127.0.0.1", resolve));
    stack.pageBase = `http://${PAGE_HOST}:${sitePort}`;

    tmp = mkdtempSync(path.join(tmpdir(), "wxemu-h5-"));
    const home = path.join(tmp, "home");
    mkdirSync(path.join(home, ".pki", "nssdb"), { recursive: true });
    const nssdb = `sql:${path.join(home, ".pki", "nssdb")}`;
    execFileSync("certutil", ["-d", nssdb, "-N", "--empty-password"]);
    execFileSync("certutil", ["-d", nssdb, "-A", "-t", "C,,", "-n", "wxemu", "-i", stack.ca]);
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      env: { ...process.env, HOME: home },
      args: [...CHROMIUM_FLAGS, `--host-resolver-rules=MAP ${HOST} 127.0.0.1, MAP ${PAGE_HOST} 127.0.0.1`],
    });
  });
  after(async () => {
    await browser?.close();
    site?.close();
    await stack?.close();
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  /** A page of the site in a context made WeChat's browser: the three lines the README shows. */
  async function open(query, os = "ios") {
    const ua = os === "android"
      ? "Mozilla/5.0 (Linux; Android 14; Pixel 8 Build/UQ1A.240205.004; wv) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/122.0.6261.120 Mobile Safari/537.36 XWEB/1260117 MMWEBSDK/20240404 MMWEBID/9203 MicroMessenger/8.0.49.2600(0x2800315A) WeChat/arm64 Weixin NetType/WIFI Language/zh_CN ABI/arm64"
      : "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 MicroMessenger/8.0.49(0x18003137) NetType/WIFI Language/zh_CN";
    context = await browser.newContext({ userAgent: ua, viewport: { width: 390, height: 844 } });
    const bridge = await (await fetchText(stack, `/h5/bridge.js?os=${os}`));
    await context.addInitScript({ content: bridge });
    const page = await context.newPage();
    const logs = [];
    page.on("console", (m) => logs.push(m.text()));
    await page.goto(`${stack.pageBase}/shop/index.html?${query}`);
    await page.waitForFunction(() => window.result && (window.result.ready || window.result.error), null, { timeout: 20000 });
    return { page, logs };
  }

  it("wx.config signed by wechatpy: wx.ready; pay ok then cancel; scan; share through the menu", async () => {
    const { page } = await open("signer=wechatpy");
    assert.deepEqual(await page.evaluate(() => window.result), { ready: true, error: null, shared: null });
    const pay = { timestamp: 1700000000, nonceStr: "n", package: "prepay_id=wx2017", signType: "RSA", paySign: "sig" };
    assert.equal((await page.evaluate((p) => call("chooseWXPay", p), pay)).errMsg, "chooseWXPay:ok");
    await control(stack, "POST", "/h5/outcomes", { api: "chooseWXPay", result: "cancel" });
    assert.equal((await page.evaluate((p) => call("chooseWXPay", p), pay)).errMsg, "chooseWXPay:cancel");
    await control(stack, "POST", "/h5/outcomes", { api: "scanQRCode", result: "ok", data: { resultStr: "https://shop.example/item/42" } });
    const scan = await page.evaluate(() => call("scanQRCode", { needResult: 1 }));
    assert.equal(scan.errMsg, "scanQRCode:ok");
    assert.equal(scan.resultStr, "https://shop.example/item/42");
    assert.equal((await page.evaluate(() => call("getNetworkType"))).networkType, "wifi");
    await page.evaluate(() => window.__wxemu.share("timeline"));
    await page.waitForFunction(() => window.result.shared === "timeline");
    const journal = await control(stack, "GET", "/journal?endpoint=h5");
    // jweixin asks getNetworkType itself after config (for its report).
    const calls = journal.entries.filter((e) => e.path === "/h5/call" && e.body.api !== "getNetworkType").map((e) => e.body.api);
    assert.deepEqual(calls, ["chooseWXPay", "chooseWXPay", "scanQRCode", "onMenuShareTimeline"]);
    const shared = journal.entries.find((e) => e.body && e.body.api === "onMenuShareTimeline");
    assert.equal(shared.body.args.title, "今日特价");
    await context.close();
  });

  it("wx.config signed by node wechat-api passes on Android; an API outside jsApiList is refused", async () => {
    const { page } = await open("signer=wechat-api", "android");
    assert.equal(await page.evaluate(() => window.result.error), null);
    const image = await page.evaluate(() => new Promise((resolve) => wx.chooseImage({ complete: resolve })));
    assert.equal(image.errMsg, "chooseImage:the permission value is offline verifying");
    assert.equal((await page.evaluate(() => call("scanQRCode", { needResult: 1 }))).resultStr, "https://weixin.qq.com/r/wxemu-scan");
    await context.close();
  });

  it("config:invalid signature names the mistake (the #fragment was signed)", async () => {
    // The backend is handed location.href with its #fragment, a classic
    // mistake of single-page apps.
    const { page, logs } = await open("signer=wechatpy&sign_href=1#/cart");
    assert.equal(await page.evaluate(() => window.result.error), "config:invalid signature");
    assert.ok(logs.some((l) => l.includes("likely cause") && l.includes("#fragment")), logs.join("\n"));
    await context.close();
  });

  it("config:invalid url domain for a host not in js_domains", async () => {
    await control(stack, "PATCH", `/apps/${OA}`, { js_domains: ["other.example"] });
    const { page } = await open("signer=wechatpy");
    assert.equal(await page.evaluate(() => window.result.error), "config:invalid url domain");
    await control(stack, "PATCH", `/apps/${OA}`, { js_domains: [PAGE_HOST] });
    await context.close();
  });
});

async function fetchText(stack, apiPath) {
  return new Promise((resolve, reject) => {
    https.get({ host: "127.0.0.1", port: stack.wxemuPort, servername: HOST, ca: readFileSync(stack.ca), path: apiPath, headers: { host: `${HOST}:${stack.wxemuPort}` } }, (res) => {
      let text = "";
      res.setEncoding("utf8");
      res.on("data", (d) => { text += d; });
      res.on("end", () => resolve(text));
    }).on("error", reject);
  });
}
