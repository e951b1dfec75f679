// Django 5.2 sites, unmodified libraries (tests/sdk/.venv): python-social-auth
// (social-auth-app-django 8.0.0, social-auth-core 7.0.0 WeixinOAuth2) and
// django-allauth 65.22.1's WeChat provider, each set up from its README in
// sites/django. Both log in on qrconnect (the website login), take the token by
// POST with a form body, and repair userinfo's nickname with
// `nickname.encode("raw_unicode_escape").decode("utf-8")`, which gives the right
// name only when the reply is text/plain without a charset, as WeChat's is.

import { describe, it, before, after } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { startStack, suiteOptions, withPage, journal, COMPAT, PYTHON, WEB_APPID, SECRET } from "./stack.js";
import { websiteAllowed, websiteDenied } from "./flows.js";

const MANAGE = path.join(COMPAT, "sites", "django", "manage.py");

/** Migrates a fresh SQLite database and starts `manage.py runserver` for one library. */
async function startDjango(stack, library, dbDir) {
  const env = {
    COMPAT_LIBRARY: library,
    COMPAT_APPID: WEB_APPID,
    COMPAT_SECRET: SECRET,
    COMPAT_DB: path.join(dbDir, `${library}.sqlite3`),
    PYTHONDONTWRITEBYTECODE: "1",
  };
  execFileSync(PYTHON, [MANAGE, "migrate", "--no-input", "-v", "0"], { env: { ...process.env, ...env } });
  return stack.startSite(PYTHON, [MANAGE, "runserver", "127.0.0.1:$PORT", "--noreload"], env);
}

/** The token call the library made, as the journal recorded it. */
async function lastTokenCall(stack) {
  const calls = await journal(stack, { host: "api.weixin.qq.com", path: "/sns/oauth2/access_token" });
  assert.ok(calls.length > 0, "a token call reached wxemu as api.weixin.qq.com");
  return calls.at(-1);
}

const options = await suiteOptions();
if (!options.skip && !existsSync(PYTHON)) throw new Error(`${PYTHON} is missing: scripts/test installs tests/sdk/requirements.txt`);

describe("Django 5.2 login libraries (qrconnect)", options, () => {
  let stack;
  let dbDir;
  before(async () => {
    dbDir = mkdtempSync(path.join(tmpdir(), "wxemu-compat-django-"));
    stack = await startStack();
    await stack.openBrowser();
  });
  after(async () => {
    await stack?.close();
    if (dbDir) rmSync(dbDir, { recursive: true, force: true });
  });

  describe("python-social-auth: social-auth-core 7.0.0 WeixinOAuth2", () => {
    let s;
    before(async () => {
      const url = await startDjango(stack, "social", dbDir);
      s = {
        url,
        async login(page) {
          await page.goto(url + "/");
          await page.getByRole("button", { name: "Log in with WeChat" }).click();
        },
        callbackPath: "/complete/weixin/",
        profilePath: "/profile",
      };
    });

    it("logs in: 允许 on the login page -> the profile shows the nickname", () =>
      withPage(stack, async (page) => {
        await websiteAllowed(stack, page, s, "compat-social-django");
        const call = await lastTokenCall(stack);
        assert.equal(call.method, "POST");
        assert.equal(call.status, 200);
      }));

    it("denied: 已拒绝, the QR code, no callback, no session", () =>
      withPage(stack, (page) => websiteDenied(stack, page, s)));
  });

  describe("django-allauth 65.22.1: the weixin provider", () => {
    let s;
    before(async () => {
      const url = await startDjango(stack, "allauth", dbDir);
      s = {
        url,
        // allauth asks before leaving the site (a POST form with the CSRF token).
        async login(page) {
          await page.goto(url + "/accounts/weixin/login/");
          await page.getByRole("button", { name: "Continue" }).click();
        },
        callbackPath: "/accounts/weixin/login/callback/",
        profilePath: "/profile",
      };
    });

    it("logs in: 允许 on the login page -> the profile shows the nickname", () =>
      withPage(stack, async (page) => {
        await websiteAllowed(stack, page, s, "compat-allauth");
        const call = await lastTokenCall(stack);
        assert.equal(call.method, "POST");
        assert.equal(call.status, 200);
      }));

    it("denied: 已拒绝, the QR code, no callback, no session", () =>
      withPage(stack, (page) => websiteDenied(stack, page, s)));
  });
});
