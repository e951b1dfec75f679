// "Log in with WeChat" end to end in a real chromium: the example site,
// wxemu's login page and wxLogin.js, fast login and the QR code, against
// the real `wxemu serve` binary. Screenshots go to artifacts/screenshots/.

import { describe, it, before, after } from "node:test";
import assert from "node:assert/strict";
import { startStack, qrconnectUrl, screenshot, APP_NAME, SCAN_ONLY_APPID } from "./harness.js";

const NICKNAME = "微信测试用户"; // wxemu's built-in account

/**
 * Starts a login at the site like a visitor would (so the site's session
 * holds the state) but stops before the browser goes to wxemu; returns
 * wxemu's login URL with `extra` query parameters added.
 */
async function siteLoginUrl(stack, extra = {}) {
  const res = await fetch(`${stack.siteUrl}/login`, { redirect: "manual" });
  assert.equal(res.status, 303, "the site's /login redirects to wxemu");
  const [cookie] = res.headers.get("set-cookie").split(";");
  const [name, value] = cookie.split("=");
  await stack.context.addCookies([{ name, value, url: stack.siteUrl }]);
  const url = new URL(res.headers.get("location"));
  for (const [k, v] of Object.entries(extra)) url.searchParams.set(k, v);
  return url.toString();
}

/** Waits until the QR image has decoded; fails if it cannot (a broken image). */
async function assertQrImageLoads(locator) {
  const width = await locator.evaluate((img) => img.decode().then(() => img.naturalWidth));
  assert.ok(width > 0, "the QR image loads");
}

async function newPage(stack) {
  const page = await stack.context.newPage();
  page.setDefaultTimeout(15_000);
  return page;
}

/** The profile the site shows after a successful login. */
async function assertLoggedIn(stack, page) {
  await page.waitForURL(`${stack.siteUrl}/me`);
  assert.equal(await page.locator("#nickname").textContent(), NICKNAME);
  assert.match(await page.locator("#openid").textContent(), /\S{8,}/);
  assert.match(await page.locator("#unionid").textContent(), /\S{8,}/);
  const avatarLoaded = await page.locator("#avatar").evaluate((img) => img.complete && img.naturalWidth > 0);
  assert.ok(avatarLoaded, "the avatar image loads");
}

describe("approve auto", () => {
  let stack;
  before(async () => { stack = await startStack({ approve: "auto" }); });
  after(async () => { await stack?.close(); });

  it("fast login: site -> login page -> 允许 -> profile", async () => {
    const page = await newPage(stack);
    const authorizeBodies = [];
    page.on("request", (r) => { if (r.url().endsWith("/api/authorize")) authorizeBodies.push(r.postData()); });
    await page.goto(stack.siteUrl + "/");
    await page.getByText("Log in with WeChat").click();
    await page.waitForURL(/\/connect\/qrconnect\?/);
    assert.equal(await page.title(), "微信登录");
    await page.locator("#fast_login").waitFor({ state: "visible" });
    assert.equal(await page.locator("#fast_nickname").textContent(), NICKNAME);
    assert.equal(await page.locator("#fast_login_btn").textContent(), "允许");
    assert.ok(await page.locator("#switch_to_qr").isVisible(), "the switch to the QR code is offered");
    await screenshot(page, "fast-login");
    await page.locator("#fast_login_btn").click();
    await page.getByText("已允许").waitFor();
    await assertLoggedIn(stack, page);
    await screenshot(page, "site-profile");

    // The real page's wire format: data is a JSON *string* with the
    // confirm window's position, centred on the browser window.
    assert.equal(authorizeBodies.length, 1);
    const body = JSON.parse(authorizeBodies[0]);
    assert.equal(body.apiname, "qrconnectfastauthorize");
    assert.equal(typeof body.jsdata.data, "string");
    const pos = JSON.parse(body.jsdata.data);
    assert.equal(typeof pos.x, "number");
    assert.equal(typeof pos.y, "number");
    assert.match(body.jsdata.authorize_uuid, /^[0-9A-Za-z]{16}$/);
    await page.close();
  });

  for (const poll of ["script", "json"]) {
    it(`fast_login=0: QR code only, scanned and confirmed -> profile (long poll as ${poll})`, async () => {
      const page = await newPage(stack);
      const checkLogins = [];
      const polls = [];
      const qrImages = [];
      const pollKinds = new Set();
      page.on("request", (r) => {
        const url = new URL(r.url());
        if (url.pathname === "/api/check-login") checkLogins.push(r.url());
        if (url.pathname === "/connect/l/qrconnect") {
          polls.push(url.searchParams.get("last") ?? "");
          pollKinds.add(`${r.resourceType()}:${url.searchParams.get("f") ?? ""}`);
        }
      });
      page.on("response", (r) => {
        if (new URL(r.url()).pathname.startsWith("/connect/qrcode/")) qrImages.push(r.headers()["content-type"]);
      });
      await page.goto(await siteLoginUrl(stack, { fast_login: "0", poll }));
      // wxemu's auto-approver scans, then confirms, each after
      // [platform] auto_scan_delay: the page follows the long poll to the site.
      await assertLoggedIn(stack, page);
      assert.deepEqual(checkLogins, [], "no fast login was tried");
      assert.deepEqual(qrImages, ["image/png"], "the QR code was shown");
      assert.equal(polls[0], "", "the first poll has no last");
      assert.ok(polls.includes("404"), `after 404 (scanned) the page polls with last=404: ${polls}`);
      // The real page loads the poll as a <script>; poll=json uses &f=json.
      assert.deepEqual([...pollKinds], [poll === "json" ? "fetch:json" : "script:"]);
      await page.close();
    });
  }

  it("a tampered state is refused by the site", async () => {
    const page = await newPage(stack);
    // Let the real login happen, then change the state on the way back.
    await page.route(`${stack.siteUrl}/callback?**`, (route) => {
      const url = new URL(route.request().url());
      url.searchParams.set("state", "forged-by-an-attacker");
      return route.continue({ url: url.toString() });
    });
    const callback = page.waitForResponse((r) => r.url().startsWith(`${stack.siteUrl}/callback`));
    await page.goto(await siteLoginUrl(stack));
    await page.locator("#fast_login_btn").click();
    const response = await callback;
    assert.equal(response.status(), 400);
    await page.locator("#error").waitFor();
    assert.match(await page.locator("#error").textContent(), /state mismatch/);
    await screenshot(page, "state-mismatch");
    await page.close();
  });

  for (const selfRedirect of [true, false]) {
    it(`embedded wxLogin.js, self_redirect=${selfRedirect}, fast login`, async () => {
      const page = await newPage(stack);
      const callbacks = [];
      page.on("request", (r) => {
        if (r.url().startsWith(`${stack.siteUrl}/callback`)) callbacks.push(r.frame() === page.mainFrame() ? "top" : "iframe");
      });
      await page.goto(`${stack.siteUrl}/embedded?self_redirect=${selfRedirect}`);
      const iframe = page.locator("#login_container iframe");
      assert.equal(await iframe.getAttribute("width"), "300px");
      assert.equal(await iframe.getAttribute("height"), "400px");
      assert.equal(await iframe.getAttribute("allow"), "local-network-access");
      const src = new URL(await iframe.getAttribute("src"));
      assert.equal(src.origin, stack.wxemuUrl, "wxLogin.js points the frame at the wxemu it came from");
      assert.equal(src.searchParams.get("login_type"), "jssdk");
      assert.equal(src.searchParams.get("self_redirect"), String(selfRedirect));
      assert.equal(src.searchParams.get("redirect_uri"), `${stack.siteUrl}/callback`);
      await page.locator("#ready").getByText("wxReady").waitFor();
      const frame = page.frameLocator("#login_container iframe");
      await frame.locator("#fast_login").waitFor({ state: "visible" });
      await screenshot(page, `embedded-self_redirect-${selfRedirect}`);
      await frame.locator("#fast_login_btn").click();
      await assertLoggedIn(stack, page);
      // true: the frame goes to the callback (and the site moves the window
      // there); false: the top window goes at once.
      assert.deepEqual(callbacks, selfRedirect ? ["iframe", "top"] : ["top"], "who navigated to the callback");
      await page.close();
    });
  }

  it("embedded wxLogin.js, self_redirect=false, QR code (no click in the frame)", async () => {
    const page = await newPage(stack);
    const callbacks = [];
    page.on("request", (r) => {
      if (r.url().startsWith(`${stack.siteUrl}/callback`)) callbacks.push(r.frame() === page.mainFrame() ? "top" : "iframe");
    });
    await page.goto(`${stack.siteUrl}/embedded?self_redirect=false&fast_login=0`);
    await assertLoggedIn(stack, page);
    assert.deepEqual(callbacks, ["top"], "the top window navigated to the callback");
    await page.close();
  });
});

describe("approve never: the page as it waits", () => {
  let stack;
  before(async () => { stack = await startStack({ approve: "never" }); });
  after(async () => { await stack?.close(); });

  it("fast login <-> QR code switch", async () => {
    const page = await newPage(stack);
    await page.goto(qrconnectUrl(stack));
    await page.locator("#fast_login").waitFor({ state: "visible" });
    await page.getByText("切换到扫码登录").click();
    await page.locator("#qrcode").waitFor({ state: "visible" });
    assert.equal(await page.locator("#fast_login").isVisible(), false);
    await assertQrImageLoads(page.locator("#qrcode"));
    await screenshot(page, "qr");
    await page.getByText("使用快速登录").click();
    await page.locator("#fast_login").waitFor({ state: "visible" });
    assert.equal(await page.locator("#qr_panel").isVisible(), false);
    await page.close();
  });

  it("a scan-only app: the client answers 10057 -> toast and QR code", async () => {
    const page = await newPage(stack);
    const checkLogins = [];
    page.on("response", async (r) => {
      if (r.url() === `${stack.wxemuUrl}/api/check-login`) checkLogins.push(JSON.parse(await r.text()).errcode);
    });
    await page.goto(qrconnectUrl(stack, { appid: SCAN_ONLY_APPID }));
    await page.getByText("该应用仅支持扫码登录").waitFor();
    await page.locator("#qrcode").waitFor({ state: "visible" });
    assert.equal(await page.locator("#fast_login").isVisible(), false);
    assert.equal(await page.locator("#switch_to_fast").isVisible(), false, "no way back to fast login");
    assert.deepEqual(checkLogins, [10057]);
    await page.close();
  });

  it("the QR page in English, top level", async () => {
    const page = await newPage(stack);
    await page.goto(qrconnectUrl(stack, { fast_login: "0", lang: "en" }));
    await page.locator("#qrcode").waitFor({ state: "visible" });
    assert.equal(await page.title(), "Log in with WeChat");
    assert.ok(await page.getByText("Scan with WeChat to log in").isVisible());
    await assertQrImageLoads(page.locator("#qrcode"));
    await screenshot(page, "qr-en");
    await page.close();
  });

  it("embedded, dark and compact (color_scheme=dark, stylelite=1)", async () => {
    const page = await newPage(stack);
    const src = qrconnectUrl(stack, { fast_login: "0", login_type: "jssdk", color_scheme: "dark", stylelite: "1" });
    await page.setContent(`<body style="background:#191919;margin:20px">
      <script>window.messages = []; addEventListener("message", (e) => messages.push(e.data));</script>
      <iframe src="${src}" width="300" height="400" frameborder="0" allowtransparency="true"></iframe></body>`);
    const frame = page.frameLocator("iframe");
    await frame.locator("#qrcode").waitFor({ state: "visible" });
    await assertQrImageLoads(frame.locator("#qrcode"));
    const look = await frame.locator("body").evaluate((b) => ({
      classes: b.className,
      text: getComputedStyle(document.getElementById("info")).color,
      titleShown: getComputedStyle(document.getElementById("title")).display !== "none",
      qrWidth: document.getElementById("qrcode").getBoundingClientRect().width,
    }));
    assert.match(look.classes, /\bframed\b/);
    assert.equal(look.text, "rgb(255, 255, 255)", "light text on a dark scheme");
    assert.equal(look.titleShown, false, "stylelite hides the title");
    assert.ok(look.qrWidth <= 160, `stylelite QR is small (${look.qrWidth}px)`);
    await screenshot(page, "embedded-dark-lite");
    // The frame tells its parent, as JSON strings, like the real page.
    await page.waitForFunction(() => window.messages.length >= 2);
    assert.deepEqual(await page.evaluate(() => window.messages), [
      JSON.stringify({ type: "status", status: "wxReady" }),
      JSON.stringify({ type: "status", status: "wxQRcodeReady" }),
    ]);
    await page.close();
  });

  it("redirect_url is built like the server's (query, fragment, encoding)", async () => {
    const page = await newPage(stack);
    await page.goto(qrconnectUrl(stack, { fast_login: "0" }));
    const cases = [
      ["https://a.com/cb", "https://a.com/cb?code=C&state=S"],
      ["https://a.com/cb?x=1", "https://a.com/cb?x=1&code=C&state=S"],
      ["https://a.com/cb?", "https://a.com/cb?code=C&state=S"],
      ["https://a.com/cb?x=1&", "https://a.com/cb?x=1&code=C&state=S"],
      ["https://a.com/cb#/route", "https://a.com/cb?code=C&state=S#/route"],
      ["https://a.com/cb?x=%2F#f?g", "https://a.com/cb?x=%2F&code=C&state=S#f?g"],
    ];
    for (const [uri, want] of cases) {
      assert.equal(await page.evaluate(([u]) => window.wxemuLoginPage.redirectUrl(u, "C", "S"), [uri]), want);
    }
    assert.equal(
      await page.evaluate(() => window.wxemuLoginPage.redirectUrl("https://a.com/", "C", "a b&c=d/é!")),
      "https://a.com/?code=C&state=a%20b%26c%3Dd%2F%C3%A9%21",
    );
    await page.close();
  });
});

describe("approve deny", () => {
  let stack;
  before(async () => { stack = await startStack({ approve: "deny" }); });
  after(async () => { await stack?.close(); });

  it("fast login denied -> 已拒绝 -> QR code; the phone cancels -> cancelled text", async () => {
    const page = await newPage(stack);
    await page.goto(await siteLoginUrl(stack));
    await page.locator("#fast_login_btn").click();
    await page.getByText("已拒绝").waitFor();
    await page.locator("#qrcode").waitFor({ state: "visible" });
    await assertQrImageLoads(page.locator("#qrcode"));
    assert.ok(await page.locator("#switch_to_fast").isVisible(), "can go back to fast login");
    // The auto-denier scans then cancels every QR code.
    await page.locator("#wx_after_cancel").waitFor({ state: "visible" });
    assert.match(await page.locator("#wx_after_cancel").textContent(), /你已取消此次登录/);
    await screenshot(page, "qr-cancelled");
    assert.ok(page.url().startsWith(stack.wxemuUrl), "still on the login page");
    await page.close();
  });
});

describe("approve never, short QR lifetime and decision timeout", () => {
  let stack;
  before(async () => {
    stack = await startStack({ approve: "never", platform: { qr_ttl: "2s" }, serveArgs: ["--decision-timeout", "1s"] });
  });
  after(async () => { await stack?.close(); });

  it("QR expired -> refresh button -> a new QR code", async () => {
    const page = await newPage(stack);
    await page.goto(qrconnectUrl(stack, { fast_login: "0" }));
    const img = page.locator("#qrcode");
    await img.waitFor({ state: "visible" });
    const before = await img.getAttribute("src");
    await page.locator("#qr_expired").waitFor({ state: "visible" });
    assert.ok(await page.getByText("二维码已失效").isVisible());
    await screenshot(page, "qr-expired");
    await page.locator("#qr_refresh").click();
    await page.locator("#qr_expired").waitFor({ state: "hidden" });
    const after = await img.getAttribute("src");
    assert.notEqual(after, before, "a new uuid");
    assert.match(after, /^\/connect\/qrcode\/[0-9A-Za-z_-]{16}$/);
    await assertQrImageLoads(img);
    await page.close();
  });

  it("fast login nobody answers -> 登录超时 -> the page reloads", async () => {
    const page = await newPage(stack);
    await page.goto(qrconnectUrl(stack));
    await page.locator("#fast_login_btn").waitFor({ state: "visible" });
    const reloaded = page.waitForEvent("load");
    await page.locator("#fast_login_btn").click();
    await page.getByText("登录超时").waitFor();
    await screenshot(page, "fast-login-timeout");
    await reloaded;
    await page.locator("#fast_login_btn").waitFor({ state: "visible" });
    assert.equal(await page.locator("#fast_login_btn").isEnabled(), true, "a fresh page, ready to try again");
    await page.close();
  });
});
