// The built-in demo site (/demo/ on wxemu's own origin, what "Open the demo"
// in the desktop app opens) in Debian's Chromium trusting wxemu's CA through
// NSS, no certificate flags: by redirect and embedded, allowed and denied.

import { describe, it, before, after } from "node:test";
import assert from "node:assert/strict";
import { startStack, screenshot } from "./harness.js";

const NICKNAME = "微信测试用户"; // wxemu's built-in account

async function newPage(stack) {
  const page = await stack.context.newPage();
  page.setDefaultTimeout(15_000);
  return page;
}

/** The demo's profile page after a login: the user the code was traded for. */
async function assertProfile(stack, page) {
  await page.waitForURL(`${stack.wxemuUrl}/demo/profile.html`);
  await page.locator("#profile").waitFor({ state: "visible" });
  assert.equal(await page.locator("#nickname").textContent(), NICKNAME);
  assert.match(await page.locator("#openid").textContent(), /\S{8,}/);
  assert.equal(await page.locator("#scope").textContent(), "snsapi_login");
  const avatarLoaded = await page.locator("#avatar").evaluate((img) => img.decode().then(() => img.naturalWidth > 0));
  assert.ok(avatarLoaded, "the avatar image loads");
}

describe("demo, approve auto", () => {
  let stack;
  before(async () => { stack = await startStack({ approve: "auto" }); });
  after(async () => { await stack?.close(); });

  it("redirect: home -> login page -> 允许 -> callback -> profile -> log out", async () => {
    const page = await newPage(stack);
    const callbacks = [];
    page.on("request", (r) => { if (r.url().includes("/demo/callback")) callbacks.push(new URL(r.url())); });
    // /demo (no slash) is where people type; it lands on the home page.
    await page.goto(`${stack.wxemuUrl}/demo`);
    await page.waitForURL(`${stack.wxemuUrl}/demo/`);
    assert.ok(await page.locator("#who").isHidden(), "nobody is logged in yet");
    await page.locator("#login-redirect").click();
    await page.waitForURL(/\/connect\/qrconnect\?/);
    const login = new URL(page.url());
    assert.equal(login.searchParams.get("redirect_uri"), `${stack.wxemuUrl}/demo/callback`);
    assert.match(login.searchParams.get("state"), /^[A-Za-z0-9]{24}$/);
    await page.locator("#fast_login_btn").click();
    await assertProfile(stack, page);
    assert.equal(callbacks.length, 1);
    assert.equal(callbacks[0].searchParams.get("state"), login.searchParams.get("state"));
    // The README's pictures: the page follows the reader's colour scheme.
    await screenshot(page, "demo-profile-light");
    await page.emulateMedia({ colorScheme: "dark" });
    await screenshot(page, "demo-profile-dark");
    await page.emulateMedia({ colorScheme: "light" });

    // The home page knows the visitor now; logging out forgets them.
    await page.goto(`${stack.wxemuUrl}/demo/`);
    await page.locator("#who").getByText(NICKNAME).first().waitFor();
    await page.goto(`${stack.wxemuUrl}/demo/profile.html`);
    await page.locator("#logout button").click();
    await page.waitForURL(`${stack.wxemuUrl}/demo/`);
    const me = await page.evaluate(() => fetch("api/me").then((r) => r.status));
    assert.equal(me, 401);
    await page.close();
  });

  for (const selfRedirect of [false, true]) {
    it(`embedded wxLogin.js (self_redirect=${selfRedirect}) -> 允许 in the frame -> profile`, async () => {
      const page = await newPage(stack);
      await page.goto(`${stack.wxemuUrl}/demo/embedded.html?self_redirect=${selfRedirect}`);
      await page.locator("#ready").getByText("wxReady").waitFor();
      const src = new URL(await page.locator("#login_container iframe").getAttribute("src"));
      assert.equal(src.searchParams.get("self_redirect"), String(selfRedirect));
      const frame = page.frameLocator("#login_container iframe");
      await frame.locator("#fast_login_btn").click();
      await assertProfile(stack, page);
      await page.close();
    });
  }

  it("a callback whose state this visitor never got is refused, and the code stays unused", async () => {
    const page = await newPage(stack);
    const response = await page.goto(`${stack.wxemuUrl}/demo/callback?code=whatever&state=forged`);
    assert.equal(response.status(), 400);
    assert.match(await page.locator("#error").textContent(), /state mismatch/);
    await page.close();
  });
});

describe("demo, approve deny", () => {
  let stack;
  before(async () => { stack = await startStack({ approve: "deny" }); });
  after(async () => { await stack?.close(); });

  it("fast login denied: the login page says so and the demo never sees a code", async () => {
    const page = await newPage(stack);
    const callbacks = [];
    page.on("request", (r) => { if (r.url().includes("/demo/callback")) callbacks.push(r.url()); });
    await page.goto(`${stack.wxemuUrl}/demo/`);
    await page.locator("#login-redirect").click();
    await page.locator("#fast_login_btn").click();
    await page.getByText("已拒绝").waitFor();
    assert.deepEqual(callbacks, []);
    const me = await page.evaluate(() => fetch("/demo/api/me").then((r) => r.status));
    assert.equal(me, 401, "not logged in");
    await page.close();
  });
});
