// A website under test for the token-call checks: wxemu's example site
// (examples/site.rs, SITE_BIN), one per worker, logging in against this
// worker's wxemu and trading codes over HTTPS with the token API.
import { spawn } from "node:child_process";
import { appendFileSync } from "node:fs";
import net from "node:net";
import path from "node:path";
import { test as base, expect } from "wxemu/playwright";

export const WORKERS_FILE = path.join(process.env.RUNNER_OUT ?? ".", "workers.txt");
export const SITE_APP = { appid: "wx5173000000000001", secret: "site-secret-0123456789abcdef", name: "Example Site", callback_domains: ["127.0.0.1"] };

function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

async function waitForPort(port, child) {
  for (;;) {
    if (child.exitCode !== null) throw new Error(`the example site exited (${child.exitCode})`);
    const ok = await new Promise((resolve) => {
      const socket = net.connect(port, "127.0.0.1");
      socket.once("connect", () => { socket.destroy(); resolve(true); });
      socket.once("error", () => resolve(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 20));
  }
}

export const test = base.extend({
  wxemuOptions: [{ accounts: [{ id: "alice", nickname: "Alice" }], apps: [SITE_APP] }, { scope: "worker", option: true }],
  site: [
    async ({ wxemu }, use) => {
      const port = await freePort();
      const child = spawn(
        process.env.SITE_BIN,
        ["--wxemu", wxemu.url, "--port", String(port), "--appid", SITE_APP.appid, "--secret", SITE_APP.secret, "--ca", wxemu.caPath],
        { stdio: "ignore" },
      );
      await waitForPort(port, child);
      await use(`http://127.0.0.1:${port}`);
      child.kill("SIGTERM");
    },
    { scope: "worker" },
  ],
  // Which wxemu each worker used (checked after the run).
  _noteWorker: [
    async ({ wxemu }, use, testInfo) => {
      appendFileSync(WORKERS_FILE, `${testInfo.workerIndex} ${wxemu.port}\n`);
      await use();
    },
    { auto: true },
  ],
});

export { expect };
