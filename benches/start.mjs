// start() to ready, as a test suite sees it: the Node API spawns
// `wxemu serve` on free ports and resolves once the ready file is there.
// Prints median and p99 over N starts (default 50), for a fresh temporary
// data directory each time (the default: the CAs are created) and with the
// CAs shared through caDir (as wxemu/playwright and pytest-wxemu do), plus
// the packed sizes if
// target/dist holds packages.
// Usage: node benches/start.mjs [--binary PATH] [--starts N]
import { readdirSync, statSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const { values } = parseArgs({ options: { binary: { type: "string" }, starts: { type: "string" } } });
process.env.WXEMU_BINARY = path.resolve(values.binary ?? path.join(ROOT, "target", "release", "wxemu"));
const starts = Number(values.starts ?? 50);
const { start } = await import(path.join(ROOT, "packages", "npm", "wxemu", "index.js"));

async function measure(options) {
  const times = [];
  for (let i = 0; i < starts; i++) {
    const t0 = performance.now();
    const wx = await start(options);
    times.push(performance.now() - t0);
    await wx.stop();
  }
  times.sort((a, b) => a - b);
  const at = (q) => times[Math.min(times.length - 1, Math.ceil(q * times.length) - 1)];
  return `median ${at(0.5).toFixed(1)} ms, p99 ${at(0.99).toFixed(1)} ms`;
}

console.log(`binary ${process.env.WXEMU_BINARY}, ${starts} starts each`);
console.log(`start() -> ready, fresh data dir (CAs created): ${await measure({})}`);
const caDir = mkdtempSync(path.join(tmpdir(), "wxemu-bench-ca-"));
try {
  console.log(`start({ caDir }) -> ready, CAs shared (what the fixtures do): ${await measure({ caDir })}`);
} finally {
  rmSync(caDir, { recursive: true, force: true });
}
for (const dir of ["npm", "python"]) {
  const full = path.join(ROOT, "target", "dist", dir);
  let files = [];
  try {
    files = readdirSync(full).filter((f) => /\.(tgz|whl)$/.test(f));
  } catch {}
  for (const f of files) console.log(`packed ${f}: ${(statSync(path.join(full, f)).size / 1e6).toFixed(2)} MB`);
}
