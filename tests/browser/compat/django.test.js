// Django 5.2 sites, unmodified libraries (tests/sdk/.venv): python-social-auth
// (social-auth-app-django 8.0.0, social-auth-core 7.0.0 WeixinOAuth2) and
// django-allauth 65.22.1's WeChat provider, each set up from its README in
// sites/django. Both log in on qrconnect (the website login) and inside WeChat
// (social-core's WeixinOAuth2APP; allauth's AUTHORIZE_URL setting), take the token by
// POST with a form body, and repair userinfo's nickname with
// `nickname.encode("raw_unicode_escape").decode("utf-8")`, which gives the right
// name only when the reply is text/plain without a charset, as WeChat's is.

import { describe, it, before, after } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { startStack, suiteOptions, withPage, journal, COMPAT, PYTHON, WEB_APPID, MP_APPID, SECRET, WECHAT_UA } from "./stack.js";
import { websiteAllowed, websiteDenied, inWechatAllowed, inWechatDenied } from "./flows.js";

const MANAGE = path.join(COMPAT, "sites", "django", "manage.py");

/** Migrates a fresh SQLite database and starts `manage.py runserver` for one library and mode. */
async function startDjango(stack, library, mode, dbDir) {
  const env = {
    COMPAT_LIBRARY: library,
    COMPAT_MODE: mode,
    COMPAT_APPID: mode === "website" ? WEB_APPID : MP_APPID,
    COMPAT_SECRET: SECRET,
    COMPAT_DB: path.join(dbDir, `${library}-${mode}.sqlite3`),
    PYTHONDONTWRITEBYTECODE: "1",
  };
  execFileSync(PYTHON, [MANAGE, "migrate", "--no-input", "-v", "0"], { env: { ...process.env, ...env } });
  return stack.startSite(PYTHON, [MANAGE, "runserver", "127.0.0.1:$PORT", "--noreload"], env);
}

/** The site of python-social-auth: a POST form (CSRF) starts the login. */
function socialSite(url, backend) {
  return {
    url,
    async login(page) {
      await page.goto(url + "/");
      await page.getByRole("button", { name: "Log in with WeChat" }).click();
    },
    callbackPath: `/complete/${backend}/`,
    profilePath: "/profile",
    // SocialAuthExceptionMiddleware sends a failed login to LOGIN_ERROR_URL.
    failed: (page) => page.locator("#failed").waitFor(),
  };
}

/** The site of django-allauth: its confirmation page (a POST form) starts the login. */
function allauthSite(url) {
  return {
    url,
    async login(page) {
      await page.goto(url + "/accounts/weixin/login/");
      await page.getByRole("button", { name: "Continue" }).click();
    },
    callbackPath: "/accounts/weixin/login/callback/",
    profilePath: "/profile",
    // allauth's own authentication-error page.
    failed: (page) => page.getByText("Third-Party Login Failure").first().waitFor(),
  };
}

/** The last token call, as the journal recorded it: by POST with a form body naming appid. */
async function lastTokenCall(stack, appid) {
  const calls = await journal(stack, { host: "api.weixin.qq.com", path: "/sns/oauth2/access_token" });
  assert.ok(calls.length > 0, "a token call reached wxemu as api.weixin.qq.com");
  const call = calls.at(-1);
  assert.equal(call.method, "POST");
  assert.match(String(call.body), new RegExp(`appid=${appid}`));
  // docs/control-api.md: `app` is the appid in the body or the query.
  assert.equal(call.app, appid, `the journal names the app of a form-body token call: ${JSON.stringify(call)}`);
  return call;
}

const options = await suiteOptions();
if (!options.skip && !existsSync(PYTHON)) throw new Error(`${PYTHON} is missing: scripts/test installs tests/sdk/requirements.txt`);

describe("Django 5.2 login libraries", options, () => {
  let stack;
  let dbDir;
  before(async () => {
    dbDir = mkdtempSync(path.join(tmpdir(), "wxemu-compat-django-"));
    stack = await startStack();
  });
  after(async () => {
    await stack?.close();
    if (dbDir) rmSync(dbDir, { recursive: true, force: true });
  });

  describe("website login (qrconnect)", () => {
    let social, allauth;
    before(async () => {
      social = socialSite(await startDjango(stack, "social", "website", dbDir), "weixin");
      allauth = allauthSite(await startDjango(stack, "allauth", "website", dbDir));
      await stack.openBrowser();
    });

    it("python-social-auth (WeixinOAuth2) logs in: 允许 -> the profile shows the nickname", () =>
      withPage(stack, async (page) => {
        await websiteAllowed(stack, page, social, "compat-social-django");
        assert.equal((await lastTokenCall(stack, WEB_APPID)).status, 200);
      }));

    it("python-social-auth denied: 已拒绝, the QR code, no callback, no session", () =>
      withPage(stack, (page) => websiteDenied(stack, page, social)));

    it("django-allauth (weixin) logs in: 允许 -> the profile shows the nickname", () =>
      withPage(stack, async (page) => {
        await websiteAllowed(stack, page, allauth, "compat-allauth");
        assert.equal((await lastTokenCall(stack, WEB_APPID)).status, 200);
      }));

    it("django-allauth denied: 已拒绝, the QR code, no callback, no session", () =>
      withPage(stack, (page) => websiteDenied(stack, page, allauth)));
  });

  describe("inside WeChat (oauth2/authorize, snsapi_userinfo)", () => {
    let social, allauth;
    before(async () => {
      social = socialSite(await startDjango(stack, "social", "in_wechat", dbDir), "weixinapp");
      allauth = allauthSite(await startDjango(stack, "allauth", "in_wechat", dbDir));
      await stack.openBrowser({ userAgent: WECHAT_UA });
    });

    it("python-social-auth (WeixinOAuth2APP) logs in -> the profile shows the nickname", () =>
      withPage(stack, (page) => inWechatAllowed(stack, page, social, "compat-social-django-wechat")));

    it("python-social-auth denied: callback with state and no code -> LOGIN_ERROR_URL, no session", () =>
      withPage(stack, (page) => inWechatDenied(stack, page, social)));

    it("django-allauth (AUTHORIZE_URL oauth2/authorize) logs in -> the profile shows the nickname", () =>
      withPage(stack, (page) => inWechatAllowed(stack, page, allauth, "compat-allauth-wechat")));

    it("django-allauth denied: callback with state and no code -> its error page, no session", () =>
      withPage(stack, (page) => inWechatDenied(stack, page, allauth)));
  });
});
