// The Playwright suite scripts/test runs in a fresh project that installed
// wxemu from the packed .tgz files: two workers, two wxemu instances,
// Debian's chromium (never a downloaded browser).
import { defineConfig } from "@playwright/test";

export default defineConfig({
  testDir: ".",
  testMatch: /.*\.spec\.js/,
  workers: 2,
  fullyParallel: true,
  forbidOnly: true,
  reporter: "list",
  timeout: 60_000,
  globalTeardown: "./two-workers-two-instances.js",
  use: {
    launchOptions: {
      executablePath: "/usr/bin/chromium",
      args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--no-first-run"],
    },
    wxemuOptions: {
      accounts: [{ id: "alice", nickname: "Alice" }],
    },
  },
});
