// Auth.js (@auth/express 0.12.3 with @auth/core 0.41.3) and its WeChat provider,
// unmodified, in a small Express site (sites/authjs.js): platformType `WebsiteApp`
// (qrconnect, a ~435-byte state: accepted and flagged in permissive mode) and its
// default `OfficialAccount` (oauth2/authorize inside WeChat), where that state is
// refused as WeChat refuses it, and the loop finishes with `checks: ["pkce"]`. Token by POST with a form body, appid/secret in
// the query and a Basic Authorization header; userinfo by GET.

import { describe, it, before, after } from "node:test";
import assert from "node:assert/strict";
import path from "node:path";
import { startStack, suiteOptions, withPage, journal, screenshot, COMPAT, WEB_APPID, MP_APPID, SECRET, WECHAT_UA } from "./stack.js";
import { websiteAllowed, websiteDenied, inWechatAllowed, inWechatDenied, requestsTo } from "./flows.js";

const SITE = path.join(COMPAT, "sites", "authjs.js");

function site(url) {
  return {
    url,
    // Auth.js's sign-in page: one button per provider, a form with the csrfToken.
    async login(page) {
      await page.goto(`${url}/auth/signin?callbackUrl=${encodeURIComponent(url + "/profile")}`);
      await page.getByRole("button", { name: "Sign in with WeChat" }).click();
    },
    callbackPath: "/auth/callback/wechat",
    profilePath: "/profile",
    failed: (page) => page.locator("#failed").waitFor(),
  };
}

/** The token call as Auth.js made it (the journal masks secrets and codes). */
async function tokenCall(stack, appid) {
  const calls = await journal(stack, { host: "api.weixin.qq.com", path: "/sns/oauth2/access_token", app: appid });
  assert.ok(calls.length > 0, "a token call reached wxemu as api.weixin.qq.com");
  return calls.at(-1);
}

describe("Auth.js (@auth/core 0.41.3) WeChat provider", await suiteOptions(), () => {
  let stack;
  before(async () => { stack = await startStack(); });
  after(async () => { await stack?.close(); });

  describe("platformType WebsiteApp (qrconnect)", () => {
    let s;
    before(async () => {
      s = site(await stack.startSite("node", [SITE, "$PORT", WEB_APPID, SECRET, "WebsiteApp"]));
      await stack.openBrowser();
    });

    it("logs in: 允许 on the login page -> the profile shows the nickname", () =>
      withPage(stack, async (page) => {
        const qrconnect = requestsTo(page, "https://open.weixin.qq.com/connect/qrconnect?");
        await websiteAllowed(stack, page, s, "compat-authjs-website");
        const state = new URL(qrconnect[0]).searchParams.get("state");
        assert.ok(state.length > 128, `Auth.js sends a long state (${state.length} bytes)`);
        // Permissive mode takes it, and flags it: real WeChat may refuse it.
        const [pageEntry] = await journal(stack, { host: "open.weixin.qq.com", path: "/connect/qrconnect", app: WEB_APPID });
        assert.match(String(pageEntry?.warnings), new RegExp(`state is ${state.length} bytes`), JSON.stringify(pageEntry));
        const call = await tokenCall(stack, WEB_APPID);
        assert.equal(call.method, "POST");
        assert.equal(call.status, 200);
      }));

    it("denied: 已拒绝, the QR code, no callback, no session", () =>
      withPage(stack, (page) => websiteDenied(stack, page, s)));
  });

  describe("platformType OfficialAccount (its default: oauth2/authorize inside WeChat)", () => {
    let s, pkce;
    before(async () => {
      s = site(await stack.startSite("node", [SITE, "$PORT", MP_APPID, SECRET, "OfficialAccount"]));
      pkce = {
        ...site(await stack.startSite("node", [SITE, "$PORT", MP_APPID, SECRET, "OfficialAccount", "pkce"])),
        sendsState: false,
      };
      await stack.openBrowser({ userAgent: WECHAT_UA });
    });

    // Auth.js's encrypted state is ~435 bytes; WeChat documents at most 128 for
    // oauth2/authorize and refuses longer ones in its browser ("state参数过长":
    // casdoor#867, keycloak-services-social-weixin#37, AspNet.Security.OAuth#723).
    it("as configured by default: WeChat's state error page, the site never called back", () =>
      withPage(stack, async (page) => {
        const callbacks = requestsTo(page, s.url + s.callbackPath);
        await s.login(page);
        await page.waitForURL(/^https:\/\/open\.weixin\.qq\.com\/connect\/oauth2\/authorize\?/);
        const state = new URL(page.url()).searchParams.get("state");
        assert.ok(state.length > 128, `Auth.js sends a long state (${state.length} bytes)`);
        await page.getByText("state 参数错误").waitFor();
        assert.match(await page.locator("body").innerText(), new RegExp(`state is ${state.length} bytes`));
        assert.deepEqual(callbacks, []);
        await screenshot(page, "compat-authjs-official-state");
      }));

    it('with checks: ["pkce"] (no state): logs in -> the profile shows the nickname', () =>
      withPage(stack, async (page) => {
        await inWechatAllowed(stack, page, pkce, "compat-authjs-official");
        assert.equal((await tokenCall(stack, MP_APPID)).status, 200);
      }));

    it('with checks: ["pkce"], denied: the callback gets no code -> the site\'s error page, no session', () =>
      withPage(stack, (page) => inWechatDenied(stack, page, pkce)));
  });
});
