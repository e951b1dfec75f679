// What wxemu's H5 bridge costs a page: Chromium loads one local page N
// times with the bridge injected (Playwright's addInitScript, as the docs
// show) and N times without, interleaved. Measured: when the page's first
// script runs, from navigation start (performance.now() in the page), so
// the bridge's own run time is in it and the browser's page setup is not.
// Prints medians, p99s and the difference (machines are noisy).
//
// Usage: node benches/h5_bridge.mjs [N]   (after `cargo build --bin wxemu`;
// tests/browser's node_modules provide playwright-core)

import http from "node:http";
import https from "node:https";
import { readFileSync } from "node:fs";
import { startStack, freePort, HOST } from "../tests/browser/harness.js";

const runs = Number(process.argv[2] || 40);
const stack = await startStack({ approve: "auto" });
try {
  const bridge = await new Promise((resolve, reject) => {
    https.get({ host: "127.0.0.1", port: stack.wxemuPort, servername: HOST, ca: readFileSync(stack.ca), path: "/h5/bridge.js", headers: { host: `${HOST}:${stack.wxemuPort}` } }, (res) => {
      let text = "";
      res.on("data", (d) => { text += d; });
      res.on("end", () => resolve(text));
    }).on("error", reject);
  });
  const port = await freePort();
  const page = "<!doctype html><title>p</title><script>window.loaded = performance.now();</script><p>page</p>";
  const server = http.createServer((_, res) => { res.writeHead(200, { "content-type": "text/html" }); res.end(page); });
  await new Promise((resolve) => server.listen(port, "127.0.0.1", resolve));
  const url = `http://127.0.0.1:${port}/`;

  const time = async (withBridge) => {
    const p = await stack.context.newPage();
    if (withBridge) await p.addInitScript({ content: bridge });
    await p.goto(url, { waitUntil: "load" });
    const firstScript = await p.evaluate(() => window.loaded);
    await p.close();
    return firstScript;
  };
  await time(true); await time(false); // warm both paths
  const a = [], b = [];
  for (let i = 0; i < runs; i++) { a.push(await time(false)); b.push(await time(true)); }
  const q = (v, f) => { const s = [...v].sort((x, y) => x - y); return s[Math.min(s.length - 1, Math.floor(s.length * f))]; };
  console.log(`page's first script, without the bridge: median ${q(a, 0.5).toFixed(2)} ms, p99 ${q(a, 0.99).toFixed(2)} ms (${runs} runs)`);
  console.log(`page's first script, with the bridge:    median ${q(b, 0.5).toFixed(2)} ms, p99 ${q(b, 0.99).toFixed(2)} ms`);
  console.log(`the bridge costs (median difference):    ${(q(b, 0.5) - q(a, 0.5)).toFixed(2)} ms   bridge.js: ${bridge.length} bytes`);
  server.close();
} finally {
  await stack.close();
}
