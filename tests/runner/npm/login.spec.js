// "Log in with WeChat" through wxemu/playwright: the built-in demo (/demo/
// on the worker's wxemu) and the example site, in Debian's chromium routed
// and trusting through the fixture alone.
import { test, expect } from "./site.js";

/** The demo's login button, up to wxemu's login page. */
async function openDemoLogin(page, wxemu) {
  await page.goto(`${wxemu.url}/demo/`);
  await page.locator("#login-redirect").click();
  await page.waitForURL(/\/connect\/qrconnect\?/);
}

test("allow as an added account: the demo's profile shows it", async ({ page, wxemu }) => {
  await wxemu.decide("allow", { account: "alice" });
  await openDemoLogin(page, wxemu);
  await page.locator("#fast_login_btn").click();
  await page.waitForURL(`${wxemu.url}/demo/profile.html`);
  await expect(page.locator("#nickname")).toHaveText("Alice");
  const authorize = await wxemu.journal.waitFor({ endpoint: "authorize", timeout: "5s" });
  expect(authorize.decision).toBe("allowed");
  expect(authorize.account).toBe("alice");
});

test("deny: the login page says so and the demo gets no code", async ({ page, wxemu }) => {
  await wxemu.decide("deny");
  await openDemoLogin(page, wxemu);
  await page.locator("#fast_login_btn").click();
  await expect(page.getByText("已拒绝")).toBeVisible();
  const authorize = await wxemu.journal.waitFor({ endpoint: "authorize", timeout: "5s" });
  expect(authorize.decision).toBe("denied");
  expect(await wxemu.journal.list({ path: "/demo/callback" })).toEqual([]);
});

test("a QR login scanned and confirmed through the fixture", async ({ page, wxemu }) => {
  // A locked client makes the page fall back to the QR code.
  await wxemu.client({ state: "locked" });
  await openDemoLogin(page, wxemu);
  await expect(page.locator("#qrcode")).toBeVisible();
  await wxemu.scan({ account: "alice" });
  await wxemu.confirm();
  await page.waitForURL(`${wxemu.url}/demo/profile.html`);
  await expect(page.locator("#nickname")).toHaveText("Alice");
});

test("the real open.weixin.qq.com URL reaches the worker's wxemu", async ({ page, wxemu }) => {
  await wxemu.decide("allow");
  await openDemoLogin(page, wxemu);
  // The same login URL a site would build for WeChat itself.
  const real = new URL(page.url());
  real.hostname = "open.weixin.qq.com";
  real.port = "";
  await page.goto(real.href);
  await page.locator("#fast_login_btn").click();
  await page.waitForURL(`${wxemu.url}/demo/profile.html`);
  await expect(page.locator("#nickname")).toHaveText("微信测试用户");
  const pageLoad = await wxemu.journal.waitFor({ endpoint: "login-page", host: "open.weixin.qq.com", timeout: "5s" });
  expect(pageLoad.path).toBe("/connect/qrconnect");
});

test("the example site's token call, seen by journal.waitFor", async ({ page, wxemu, site }) => {
  await wxemu.decide("allow", { account: "alice" });
  await page.goto(site);
  await page.locator("#login").click();
  await page.locator("#fast_login_btn").click();
  await expect(page.locator("#nickname")).toHaveText("Alice");
  const token = await wxemu.journal.waitFor({ endpoint: "token", timeout: "5s" });
  expect(token.path).toBe("/sns/oauth2/access_token");
  expect(token.errcode ?? 0).toBe(0);
});

test("a fault: the token API fails once and the site shows its error", async ({ page, wxemu, site }) => {
  await wxemu.fault({ endpoint: "token", errcode: 40029, times: 1 });
  await wxemu.decide("allow");
  await page.goto(site);
  await page.locator("#login").click();
  await page.locator("#fast_login_btn").click();
  await expect(page.locator("#error")).toBeVisible();
  const token = await wxemu.journal.waitFor({ endpoint: "token", timeout: "5s" });
  expect(token.errcode).toBe(40029);
  expect(token.fault).toContain("40029");
});

test("reset before each test: no decision, fault or journal entry is left over", async ({ wxemu }) => {
  expect((await wxemu.api("GET", "/decisions")).queue).toEqual([]);
  expect(await wxemu.api("GET", "/faults")).toEqual([]);
  expect(await wxemu.journal.list()).toEqual([]);
  expect((await wxemu.client()).state).toBe("logged_in");
});

test("wechatBrowser(context): pages run inside WeChat's browser", async ({ context, page, wxemu }) => {
  await wxemu.wechatBrowser(context);
  const seen = [];
  page.on("request", (r) => seen.push(r.headers()["user-agent"]));
  await page.goto(`${wxemu.url}/demo/`);
  expect(await page.evaluate(() => navigator.userAgent)).toContain("MicroMessenger/");
  expect(await page.evaluate(() => typeof window.WeixinJSBridge?.invoke)).toBe("function");
  expect(seen[0]).toContain("MicroMessenger/");
});
