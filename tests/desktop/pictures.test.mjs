// The README's pictures, light and dark: the welcome window (untrusted data
// dir), the confirm window and the dashboard, taken from the real app under
// X. The theme is the OS's (GTK_THEME=Adwaita:dark for dark; WebKitGTK maps
// it to prefers-color-scheme), and the test checks the dark pictures really
// are darker. Files: artifacts/screenshots/{welcome,confirm,dashboard}-{light,dark}.png
// (copied to docs/pictures/ for the README).
import { test as nodeTest, after } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import {
  CONFIRM_TITLE, DASHBOARD_TITLE, WELCOME_TITLE, Log, startApp, freePort, post, pressKey, sleep,
  visibleWindow, gone, screenshot, painted,
} from "./harness.mjs";

const test = (name, fn) => nodeTest(name, { timeout: 90_000 }, fn);
const log = new Log();
const dirs = [];
let app;

after(() => {
  if (app && app.exitCode === null) app.kill("SIGKILL");
  log.save("desktop-pictures.log");
  for (const dir of dirs) fs.rmSync(dir, { recursive: true, force: true });
});

// Mean brightness of a picture, 0 (black) to 1 (white).
function brightness(file) {
  return Number(execFileSync("convert", [file, "-colorspace", "Gray", "-format", "%[fx:mean]", "info:"], { encoding: "utf8" }));
}

const target = { appid: "wxpictures", scope: "snsapi_login", redirect_uri: "https://shop.example.com/wechat/callback", state: "p" };

async function pictures(theme) {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), `wxemu-pictures-${theme}-`));
  dirs.push(dataDir);
  fs.writeFileSync(path.join(dataDir, "config.toml"), [
    "[[apps]]", `appid = "${target.appid}"`, 'name = "Demo Shop 演示商城"', 'callback_domains = ["shop.example.com"]', "",
  ].join("\n"));
  const port = await freePort();
  const env = theme === "dark" ? { GTK_THEME: "Adwaita:dark" } : { GTK_THEME: "Adwaita" };
  const started = log.next(/wxemu server started/);
  // An empty HOME: no NSS database trusts the new CA, so the welcome window opens.
  const home = fs.mkdtempSync(path.join(os.tmpdir(), `wxemu-pictures-home-`));
  dirs.push(home);
  app = startApp(log, ["--port", String(port), "--data-dir", dataDir, "--decision-timeout", "30s"], { env: { ...env, HOME: home } });
  await started;
  const ca = fs.readFileSync(path.join(dataDir, "ca.pem"));
  const shots = {};

  const welcome = await visibleWindow(WELCOME_TITLE);
  await painted(welcome);
  await sleep(300);
  shots.welcome = screenshot(welcome, `welcome-${theme}.png`);
  pressKey(welcome, "Escape");

  const loaded = log.next(/confirm page loaded/);
  const check = await post(port, ca, "/api/check-login", { apiname: "qrconnectchecklogin", jsdata: target });
  assert.equal(check.json.errcode, 0);
  await loaded;
  const reply = post(port, ca, "/api/authorize", {
    apiname: "qrconnectfastauthorize",
    jsdata: { ...target, authorize_uuid: check.json.jsdata.authorize_uuid, data: JSON.stringify({ x: 700, y: 120 }) },
  });
  const confirm = await visibleWindow(CONFIRM_TITLE);
  await sleep(600);
  shots.confirm = screenshot(confirm, `confirm-${theme}.png`);
  pressKey(confirm, "Return");
  assert.equal((await reply).json.errcode, 0);
  await gone(confirm);

  const second = startApp(log, ["--port", String(port), "--data-dir", dataDir]);
  assert.equal(await second.exited, 0);
  const dashboard = await visibleWindow(DASHBOARD_TITLE);
  await sleep(1500);
  shots.dashboard = screenshot(dashboard, `dashboard-${theme}.png`);

  app.kill("SIGTERM");
  assert.equal(await app.exited, 0);
  return Object.fromEntries(Object.entries(shots).map(([k, f]) => [k, brightness(f)]));
}

test("Pictures for the README, light and dark; dark follows the OS theme", async () => {
  const light = await pictures("light");
  const dark = await pictures("dark");
  console.log("mean brightness light:", light, "dark:", dark);
  for (const name of Object.keys(light)) {
    assert.ok(dark[name] < light[name] - 0.25, `${name}: the dark picture (${dark[name]}) is not darker than the light one (${light[name]})`);
  }
});
