// The QA workflow end to end, as a Playwright suite would drive wxemu:
// decide before the person clicks (queue "deny"), watch the real login page
// fall back to the QR code, scan and confirm through the control API, then
// assert on the request journal, and wait on it with `wxemu ctl`.

import { describe, it, before, after } from "node:test";
import assert from "node:assert/strict";
import https from "node:https";
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import path from "node:path";
import { startStack, screenshot, HOST, APPID, SECRET } from "./harness.js";

/**
 * One control API call: TLS validated against wxemu's CA (SNI
 * localhost.weixin.qq.com), the bearer token from the data directory.
 */
function control(stack, method, apiPath, body) {
  const token = readFileSync(path.join(stack.dataDir, "control-token"), "utf8").trim();
  const payload = body === undefined ? "" : JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = https.request(
      {
        host: "127.0.0.1",
        port: stack.wxemuPort,
        servername: HOST,
        ca: readFileSync(stack.ca),
        method,
        path: `/__wxemu${apiPath}`,
        headers: {
          host: `${HOST}:${stack.wxemuPort}`,
          authorization: `Bearer ${token}`,
          "content-type": "application/json",
          "content-length": Buffer.byteLength(payload),
        },
      },
      (res) => {
        let text = "";
        res.setEncoding("utf8");
        res.on("data", (d) => { text += d; });
        res.on("end", () => {
          const json = text ? JSON.parse(text) : null;
          if (res.statusCode >= 400) reject(new Error(`${method} ${apiPath}: ${res.statusCode} ${text}`));
          else resolve(json);
        });
      },
    );
    req.on("error", reject);
    req.end(payload);
  });
}

describe("QA workflow: control API + journal", () => {
  let stack;
  // ask: nothing answers by itself; the test decides everything.
  before(async () => { stack = await startStack({ approve: "ask" }); });
  after(async () => { await stack?.close(); });

  it("queue deny -> page falls back to QR -> scan + confirm via API -> journal", async () => {
    await control(stack, "DELETE", "/journal");
    const queued = await control(stack, "POST", "/decisions", { decision: "deny" });
    assert.deepEqual(queued.queue, [{ decision: "deny" }]);

    const page = await stack.context.newPage();
    page.setDefaultTimeout(15_000);
    await page.goto(stack.siteUrl + "/");
    await page.getByText("Log in with WeChat").click();
    await page.locator("#fast_login").waitFor({ state: "visible" });
    await page.locator("#fast_login_btn").click();

    // The queued "deny" answered: the real page's 10050 path.
    await page.getByText("已拒绝").waitFor();
    await page.locator("#qrcode").waitFor({ state: "visible" });
    const queue = await control(stack, "GET", "/decisions");
    assert.deepEqual(queue.queue, [], "the queued decision was consumed");

    // The QR code the page shows is the one the API lists.
    const pending = await control(stack, "GET", "/qr?pending=true");
    assert.equal(pending.length, 1);
    const { uuid } = pending[0];
    assert.ok((await page.locator("#qrcode").getAttribute("src")).includes(uuid));

    const scanned = await control(stack, "POST", `/qr/${uuid}/scan`, { account: "default" });
    assert.equal(scanned.status, "scanned");
    await page.locator("#wx_after_scan").waitFor({ state: "visible" });
    await screenshot(page, "qa-scanned-via-api");

    const confirmed = await control(stack, "POST", `/qr/${uuid}/confirm`);
    assert.equal(confirmed.status, "confirmed");
    await page.waitForURL(`${stack.siteUrl}/me`);
    assert.equal(await page.locator("#nickname").textContent(), "微信测试用户");

    // The site's backend redeemed the code: wait for it with `wxemu ctl`,
    // as a shell step in CI would.
    const waited = JSON.parse(
      execFileSync(stack.wxemuBin, ["ctl", "journal", "--wait", "token", "--timeout", "10s"], {
        env: { ...process.env, WXEMU_DATA_DIR: stack.dataDir },
      }).toString(),
    );
    assert.equal(waited.timed_out, false);
    assert.equal(waited.entry.path, "/sns/oauth2/access_token");

    // The journal tells the whole story.
    const { entries } = await control(stack, "GET", "/journal");
    const byEndpoint = (e) => entries.filter((x) => x.endpoint === e);
    const [check] = byEndpoint("check-login");
    assert.equal(check.errcode, 0);
    assert.equal(check.origin, stack.wxemuUrl, "the login page called from wxemu's origin");
    assert.equal(check.app, APPID);
    const [authorize] = byEndpoint("authorize");
    assert.equal(authorize.errcode, 10050);
    assert.equal(authorize.decision, "denied");
    assert.match(authorize.body.jsdata.authorize_uuid, /^\w{4}…\(16\)$/, "masked");
    const pollCodes = byEndpoint("long-poll").map((e) => e.errcode);
    assert.ok(pollCodes.includes(404), `scanned seen by the long poll: ${pollCodes}`);
    assert.equal(pollCodes.at(-1), 405);
    const token = byEndpoint("token").find((e) => e.path === "/sns/oauth2/access_token");
    assert.equal(token.app, APPID);
    assert.equal(token.status, 200);
    assert.ok(!token.query.includes(SECRET), "the secret is masked");
    assert.ok(!token.query.includes(confirmed.code), "the code is masked");
    assert.ok(!JSON.stringify(entries).includes(SECRET));
    assert.ok(!JSON.stringify(entries).includes(confirmed.code));
    await page.close();
  });

  it("a web page on another origin cannot use the control API, even with the token", async () => {
    const token = readFileSync(path.join(stack.dataDir, "control-token"), "utf8").trim();
    const page = await stack.context.newPage();
    await page.goto(stack.siteUrl + "/"); // http://127.0.0.1:<port>: another origin
    const results = await page.evaluate(async ({ wxemuUrl, token }) => {
      const out = {};
      // A "simple" cross-site POST: no preflight, the browser sends it as is.
      try {
        await fetch(`${wxemuUrl}/__wxemu/decisions`, {
          method: "POST", mode: "no-cors", body: '{"decision":"allow","count":5}',
        });
        out.noCors = "sent";
      } catch (e) { out.noCors = `error: ${e}`; }
      // A CORS call with a leaked token: the preflight gets no CORS grant.
      try {
        const r = await fetch(`${wxemuUrl}/__wxemu/decisions`, {
          method: "POST",
          headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
          body: '{"decision":"allow","count":5}',
        });
        out.cors = `read ${r.status}`;
      } catch (e) { out.cors = "blocked"; }
      return out;
    }, { wxemuUrl: stack.wxemuUrl, token });
    assert.equal(results.cors, "blocked", "the browser cannot read an answer");
    const { queue } = await control(stack, "GET", "/decisions");
    assert.deepEqual(queue, [], `nothing was queued (${JSON.stringify(results)})`);
    await page.close();
  });
});
