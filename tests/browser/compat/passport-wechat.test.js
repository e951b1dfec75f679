// passport-wechat 2.0.4 (its wechat-oauth 1.5.0 does the HTTP), unmodified, in a
// small Express site (sites/passport.cjs): `client: "web"` (the website login on
// qrconnect) and its default `client: "wechat"` (oauth2/authorize inside WeChat).

import { describe, it, before, after } from "node:test";
import assert from "node:assert/strict";
import path from "node:path";
import { startStack, suiteOptions, withPage, journal, COMPAT, WEB_APPID, MP_APPID, SECRET, WECHAT_UA } from "./stack.js";
import { websiteAllowed, websiteDenied, inWechatAllowed, inWechatDenied } from "./flows.js";

const SITE = path.join(COMPAT, "sites", "passport.cjs");

function site(url) {
  return {
    url,
    login: "/auth/wechat",
    callbackPath: "/auth/wechat/callback",
    profilePath: "/profile",
    // The README's failureRedirect.
    failed: (page) => page.locator("#failed").waitFor(),
  };
}

describe("passport-wechat 2.0.4", await suiteOptions(), () => {
  let stack;
  before(async () => { stack = await startStack(); });
  after(async () => { await stack?.close(); });

  describe('client: "web" (website login, qrconnect)', () => {
    let s;
    before(async () => {
      s = site(await stack.startSite("node", [SITE, "$PORT", WEB_APPID, SECRET, "web"]));
      await stack.openBrowser();
    });

    it("logs in: 允许 on the login page -> the profile shows the nickname", () =>
      withPage(stack, async (page) => {
        await websiteAllowed(stack, page, s, "compat-passport-web");
        // wechat-oauth's token and userinfo calls reached wxemu as api.weixin.qq.com.
        const calls = await journal(stack, { host: "api.weixin.qq.com", app: WEB_APPID });
        assert.ok(calls.some((e) => e.path === "/sns/oauth2/access_token" && e.status === 200), JSON.stringify(calls));
      }));

    it("denied: 已拒绝, the QR code, no callback, no session", () =>
      withPage(stack, (page) => websiteDenied(stack, page, s)));
  });

  describe('client: "wechat" (its default: oauth2/authorize inside WeChat)', () => {
    let s;
    before(async () => {
      s = site(await stack.startSite("node", [SITE, "$PORT", MP_APPID, SECRET, "wechat"]));
      await stack.openBrowser({ userAgent: WECHAT_UA });
    });

    it("logs in: snsapi_userinfo allowed -> the profile shows the nickname", () =>
      withPage(stack, (page) => inWechatAllowed(stack, page, s, "compat-passport-wechat")));

    it("denied: the callback gets state and no code -> failureRedirect, no session", () =>
      withPage(stack, (page) => inWechatDenied(stack, page, s)));
  });
});
