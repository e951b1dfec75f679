// Bad use of the npm package gets a clear error (node --test, in the fresh
// project that installed wxemu from the packed files).
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import net from "node:net";
import path from "node:path";
import { start } from "wxemu";

const run = promisify(execFile);

test("start() on a port in use says so", async () => {
  const server = net.createServer();
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address();
  try {
    await assert.rejects(start({ port }), (e) => {
      assert.match(e.message, new RegExp(`port ${port} on 127.0.0.1 is already in use`));
      return true;
    });
  } finally {
    server.close();
  }
});

test("decide() with an unknown account names it; waitFor names its filter and the newest entries", async () => {
  const wx = await start();
  try {
    await assert.rejects(wx.decide("allow", { account: "nobody" }), (e) => {
      assert.match(e.message, /account "nobody" does not exist/);
      assert.equal(e.status, 400);
      return true;
    });
    // One request in the journal (a token call with a made-up code).
    assert.match(await fetchTokenApi(wx), /errcode/);
    await assert.rejects(wx.journal.waitFor({ endpoint: "authorize", timeout: "300ms" }), (e) => {
      assert.match(e.message, /no request matching \{"endpoint":"authorize"\} within 300ms/);
      assert.match(e.message, /GET localhost\.weixin\.qq\.com\/sns\/oauth2\/access_token endpoint=token/);
      return true;
    });
  } finally {
    await wx.stop();
  }
});

/** A site backend's call of the token API (Node https, trusting wxemu's CA). */
async function fetchTokenApi(wx) {
  const https = await import("node:https");
  const { readFileSync } = await import("node:fs");
  return new Promise((resolve, reject) => {
    https
      .get(`${wx.url}/sns/oauth2/access_token?appid=wx1&secret=s&code=c&grant_type=authorization_code`, {
        lookup: (_host, _opts, cb) => cb(null, [{ address: "127.0.0.1", family: 4 }]),
        ca: readFileSync(wx.caPath),
      }, (res) => {
        let body = "";
        res.on("data", (c) => (body += c));
        res.on("end", () => resolve(body));
      })
      .on("error", reject);
  });
}

test("without the platform package, the launcher names the package to install", async () => {
  // MISSING_PLATFORM_PROJECT: a project that installed wxemu alone (scripts/test makes it).
  const dir = process.env.MISSING_PLATFORM_PROJECT;
  assert.ok(dir, "MISSING_PLATFORM_PROJECT is set by the runner script");
  await assert.rejects(run(path.join(dir, "node_modules", ".bin", "wxemu"), ["--version"]), (e) => {
    assert.equal(e.code, 1);
    assert.match(e.stderr, /the package @wxemu\/cli-linux-x64 is not installed/);
    assert.match(e.stderr, /npm install --save-dev @wxemu\/cli-linux-x64/);
    return true;
  });
});
