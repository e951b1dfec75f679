// The two loops every library's site goes through, as a person in chromium does:
// the website login (qrconnect: wxemu's login page finds the "desktop client" on
// wxemu's own origin, 允许 → the site's callback) and the in-WeChat web
// authorization (oauth2/authorize, snsapi_userinfo), each allowed and denied.
// A site says where its login starts and how its profile and failure pages look.

import assert from "node:assert/strict";
import { NICKNAME, screenshot } from "./stack.js";

/**
 * site: { url, login (path or async page => void that starts the login),
 *         callbackPath, profilePath, nickname (locator text on the profile) }
 */
async function startLogin(page, site) {
  if (typeof site.login === "function") await site.login(page);
  else await page.goto(site.url + site.login);
}

/** The profile page shows exactly the emulated nickname. */
/** The URLs of the page's requests that start with `prefix`, filled as they are sent. */
export function requestsTo(page, prefix) {
  const urls = [];
  page.on("request", (r) => { if (r.url().startsWith(prefix)) urls.push(r.url()); });
  return urls;
}

export async function assertProfile(page, site) {
  await page.locator("#nickname").waitFor();
  assert.equal(await page.locator("#nickname").textContent(), NICKNAME);
}

/** Asks the site's profile page with the browser's cookies: nobody is logged in. */
export async function assertNoSession(page, site) {
  await page.goto(site.url + site.profilePath);
  await page.locator("#anonymous").waitFor();
  assert.equal(await page.locator("#nickname").count(), 0);
}

/** Website login, allowed: qrconnect page → 允许 → callback → profile. */
export async function websiteAllowed(stack, page, site, shot) {
  await startLogin(page, site);
  await page.waitForURL(/^https:\/\/open\.weixin\.qq\.com\/connect\/qrconnect\?/);
  assert.equal(await page.title(), "微信登录");
  await page.locator("#fast_login_btn").click();
  await page.waitForURL((u) => u.href.startsWith(site.url + site.callbackPath) || u.href.startsWith(site.url + site.profilePath));
  await assertProfile(page, site);
  if (shot) await screenshot(page, shot);
}

/**
 * Website login, denied (policy `deny`: 允许 is refused, and the QR code the page
 * falls back to is cancelled by the phone): 已拒绝, the QR code, the site never
 * called back, no session.
 */
export async function websiteDenied(stack, page, site) {
  await stack.control("PUT", "/policy", { policy: "deny" });
  try {
    const callbacks = requestsTo(page, site.url + site.callbackPath);
    await startLogin(page, site);
    await page.waitForURL(/^https:\/\/open\.weixin\.qq\.com\/connect\/qrconnect\?/);
    await page.locator("#fast_login_btn").click();
    await page.getByText("已拒绝").waitFor();
    await page.locator("#qrcode").waitFor({ state: "visible" });
    await page.locator("#wx_after_cancel").waitFor({ state: "visible" });
    assert.ok(page.url().startsWith("https://open.weixin.qq.com/connect/qrconnect?"), page.url());
    assert.deepEqual(callbacks, [], "the site is never called back");
    await assertNoSession(page, site);
  } finally {
    await stack.control("PUT", "/policy", { policy: "auto" });
  }
}

/** In WeChat, snsapi_userinfo allowed (policy `auto`): straight to the callback, then the profile. */
export async function inWechatAllowed(stack, page, site, shot) {
  const authorize = requestsTo(page, "https://open.weixin.qq.com/connect/oauth2/authorize?");
  await startLogin(page, site);
  await page.waitForURL((u) => u.href.startsWith(site.url + site.profilePath));
  assert.equal(authorize.length, 1, "one oauth2/authorize");
  const params = new URL(authorize[0]).searchParams;
  assert.equal(params.get("scope"), "snsapi_userinfo");
  assert.equal(params.get("response_type"), "code");
  await assertProfile(page, site);
  if (shot) await screenshot(page, shot);
}

/**
 * In WeChat, snsapi_userinfo denied (one queued `deny` decision, the policy stays
 * `auto`): back at the callback with `state` (when the site sent one) and no
 * `code`; the site shows its failure and holds no session.
 */
export async function inWechatDenied(stack, page, site) {
  await stack.control("POST", "/decisions", { decision: "deny" });
  try {
    const callbacks = requestsTo(page, site.url + site.callbackPath);
    await startLogin(page, site);
    await site.failed(page);
    assert.equal(callbacks.length, 1, `one callback: ${callbacks}`);
    const params = new URL(callbacks[0]).searchParams;
    if (site.sendsState !== false) assert.ok(params.get("state"), `state is kept: ${callbacks[0]}`);
    assert.equal(params.get("code"), null, `no code: ${callbacks[0]}`);
    const { queue } = await stack.control("GET", "/decisions");
    assert.deepEqual(queue, [], "the authorize consumed the queued deny");
    await assertNoSession(page, site);
  } finally {
    await stack.control("DELETE", "/decisions");
  }
}
