// Playwright Test fixtures: `import { test, expect } from "wxemu/playwright"`.
//
// - `wxemu`: one wxemu per worker (two workers, two instances), reset()
//   before each test. Its options come from the option fixture
//   `wxemuOptions` (`use: { wxemuOptions: { approve, intercept, accounts, apps } }`
//   in the config, or `test.use({ wxemuOptions: ... })`).
// - `browser` (and so `context` and `page`): Chromium launched with
//   wxemu.chromiumArgs(): WeChat's real hosts go to this worker's wxemu
//   through its interception proxy, localhost.weixin.qq.com needs no DNS,
//   and only its CAs are trusted (no ignoreHTTPSErrors, nothing installed).
// - `await wxemu.wechatBrowser(context)` makes a context WeChat's in-app browser.

import { test as base, expect } from "@playwright/test";
import path from "node:path";
import { start } from "./index.js";

export { expect };

export const test = base.extend({
  wxemuOptions: [{}, { scope: "worker", option: true }],

  wxemu: [
    async ({ wxemuOptions }, use, workerInfo) => {
      // The workers of a run share their CAs (created once, not per worker).
      const caDir = path.join(workerInfo.project.outputDir, ".wxemu-ca");
      const wx = await start({ caDir, ...wxemuOptions });
      try {
        await use(wx);
      } finally {
        await wx.stop();
      }
    },
    { scope: "worker", timeout: 60_000 },
  ],

  // Every test starts from the state right after start.
  _wxemuReset: [
    async ({ wxemu }, use) => {
      await wxemu.reset();
      await use();
    },
    { auto: true },
  ],

  browser: [
    async ({ playwright, browserName, headless, channel, launchOptions, wxemu }, use) => {
      if (browserName !== "chromium") {
        throw new Error(`wxemu/playwright routes and trusts through Chromium's flags; ${browserName} is not supported yet`);
      }
      const browser = await playwright.chromium.launch({
        headless,
        channel,
        ...launchOptions,
        args: [...(launchOptions.args ?? []), ...wxemu.chromiumArgs()],
      });
      try {
        await use(browser);
      } finally {
        await browser.close();
      }
    },
    { scope: "worker", timeout: 60_000 },
  ],
});
