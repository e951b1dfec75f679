// Web authorization inside WeChat's browser (connect/oauth2/authorize) in
// Debian's chromium: the consent sheet a snsapi_userinfo page gets, its
// Allow and Deny as a person taps them, the site's code traded server-side
// for the emulated nickname, the note outside WeChat, and a code that
// expired on the emulated clock.

import { describe, it, before, after } from "node:test";
import assert from "node:assert/strict";
import https from "node:https";
import { readFileSync } from "node:fs";
import path from "node:path";
import { startStack, screenshot, HOST } from "./harness.js";

const OA = "wx0a0a0a0a0a0a0b0b";
const IPHONE =
  "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) " +
  "Mobile/15E148 MicroMessenger/8.0.49(0x18003137) NetType/WIFI Language/zh_CN";

/** GET or POST on wxemu over TLS trusting only its CA; parsed JSON. */
function call(stack, method, apiPath, body, control = false) {
  const payload = body === undefined ? "" : JSON.stringify(body);
  const headers = { host: `${HOST}:${stack.wxemuPort}`, "content-type": "application/json" };
  if (control) {
    const token = readFileSync(path.join(stack.dataDir, "control-token"), "utf8").trim();
    headers.authorization = `Bearer ${token}`;
  }
  return new Promise((resolve, reject) => {
    const req = https.request(
      { host: "127.0.0.1", port: stack.wxemuPort, servername: HOST, ca: readFileSync(stack.ca), method, path: apiPath, headers },
      (res) => {
        let text = "";
        res.setEncoding("utf8");
        res.on("data", (d) => { text += d; });
        res.on("end", () => (res.statusCode >= 400 ? reject(new Error(`${apiPath}: ${res.statusCode} ${text}`)) : resolve(text ? JSON.parse(text) : null)));
      },
    );
    req.on("error", reject);
    req.end(payload);
  });
}

/** A page "inside WeChat" whose site (the landing URL) is played by a route. */
async function wechatPage(stack, ua = IPHONE) {
  const page = await stack.context.newPage();
  await page.setExtraHTTPHeaders({ "user-agent": ua });
  await page.route("https://h5.example/**", (route) =>
    route.fulfill({ status: 200, contentType: "text/html", body: "<title>landing</title>landed" }));
  return page;
}

function authorizeUrl(stack, state, scope = "snsapi_userinfo") {
  const params = new URLSearchParams({
    appid: OA,
    redirect_uri: "https://h5.example/cb?from=menu",
    response_type: "code",
    scope,
    state,
  });
  return `${stack.wxemuUrl}/connect/oauth2/authorize?${params}#wechat_redirect`;
}

describe("web authorization (connect/oauth2/authorize) in chromium", () => {
  let stack;
  before(async () => {
    stack = await startStack({ approve: "ask" });
    await call(stack, "POST", "/__wxemu/accounts", { id: "zh", nickname: "微信用户😀" }, true);
    await call(stack, "PATCH", "/__wxemu/client", { account: "zh" }, true);
  });
  after(async () => { await stack?.close(); });

  it("Allow on the consent sheet lands on the site with code and state; the code trades for the nickname", async () => {
    const page = await wechatPage(stack);
    await page.goto(authorizeUrl(stack, "st-allow"));
    await page.getByText("申请获取并使用你的以下信息").waitFor();
    assert.equal(await page.locator("#nickname").textContent(), "微信用户😀");
    assert.equal(await page.locator("#wxemu_note").isHidden(), true, "inside WeChat: no note");
    await screenshot(page, "oauth2-consent");
    await Promise.all([page.waitForURL(/^https:\/\/h5\.example\/cb/), page.getByRole("button", { name: "允许" }).click()]);
    const landed = new URL(page.url());
    assert.equal(landed.searchParams.get("from"), "menu");
    assert.equal(landed.searchParams.get("state"), "st-allow");
    const code = landed.searchParams.get("code");
    assert.ok(code, page.url());
    const token = await call(stack, "GET", `/sns/oauth2/access_token?appid=${OA}&secret=x&code=${code}&grant_type=authorization_code`);
    assert.equal(token.scope, "snsapi_userinfo");
    const info = await call(stack, "GET", `/sns/userinfo?access_token=${token.access_token}&openid=${token.openid}`);
    assert.equal(info.nickname, "微信用户😀");
    assert.equal(info.sex, 0);
    await page.close();
  });

  it("Deny lands with state and no code", async () => {
    const page = await wechatPage(stack);
    await page.goto(authorizeUrl(stack, "st-deny"));
    await Promise.all([page.waitForURL(/^https:\/\/h5\.example\/cb/), page.getByRole("button", { name: "拒绝" }).click()]);
    const landed = new URL(page.url());
    assert.equal(landed.searchParams.get("state"), "st-deny");
    assert.equal(landed.searchParams.get("code"), null);
    await page.close();
  });

  it("outside WeChat the sheet says real WeChat would refuse; a code past 5 minutes has expired", async () => {
    const page = await wechatPage(stack, "Mozilla/5.0 (X11; Linux x86_64) Chrome/156.0 Safari/537.36");
    await page.goto(authorizeUrl(stack, "st-out"));
    const note = page.locator("#wxemu_note");
    await note.waitFor();
    assert.match(await note.textContent(), /MicroMessenger/);
    await Promise.all([page.waitForURL(/^https:\/\/h5\.example\/cb/), page.getByRole("button", { name: "允许" }).click()]);
    const code = new URL(page.url()).searchParams.get("code");
    await call(stack, "POST", "/__wxemu/clock/advance", { by: "301s" }, true);
    const expired = await call(stack, "GET", `/sns/oauth2/access_token?appid=${OA}&secret=x&code=${code}&grant_type=authorization_code`);
    assert.equal(expired.errcode, 42003);
    await call(stack, "POST", "/__wxemu/reset", {}, true);
    await page.close();
  });

  it("snsapi_base is silent: a 302 straight to the site", async () => {
    const page = await wechatPage(stack);
    // Chromium follows a document's 302 itself (no route sees it), so the
    // request for the site is watched instead; h5.example does not resolve.
    const toSite = page.waitForRequest(/^https:\/\/h5\.example\/cb/);
    await page.goto(authorizeUrl(stack, "st-base", "snsapi_base")).catch(() => {});
    const landed = new URL((await toSite).url());
    assert.equal(landed.searchParams.get("state"), "st-base");
    assert.ok(landed.searchParams.get("code"));
    await page.close();
  });
});
