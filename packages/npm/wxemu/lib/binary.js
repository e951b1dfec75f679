// Finds the wxemu binary: the platform package npm installed as an optional
// dependency of `wxemu` (@wxemu/cli-<os>-<cpu>[-musl]), as esbuild and Biome
// do. Nothing is downloaded, ever. WXEMU_BINARY overrides it (a binary built
// from source, a platform without a package).

import { createRequire } from "node:module";
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";

const require = createRequire(import.meta.url);

/** glibc or musl, from Node's own report (what npm's `libc` field matches). */
function libc() {
  if (process.platform !== "linux") return null;
  const report = process.report?.getReport?.();
  if (report?.header?.glibcVersionRuntime) return "glibc";
  // No glibc in Node's report: musl (Alpine), if its loader is there.
  try {
    if (readFileSync("/usr/bin/ldd", "utf8").includes("musl")) return "musl";
  } catch {}
  return "musl";
}

/** The platform package's name for this machine. */
export function platformPackage() {
  const musl = libc() === "musl" ? "-musl" : "";
  return `@wxemu/cli-${process.platform}-${process.arch}${musl}`;
}

/** The binary's path, or an Error saying which package to install. */
export function binaryPath() {
  const override = process.env.WXEMU_BINARY;
  if (override) {
    if (!existsSync(override)) throw new Error(`WXEMU_BINARY=${override}: no such file`);
    return override;
  }
  const pkg = platformPackage();
  const exe = process.platform === "win32" ? "wxemu.exe" : "wxemu";
  let dir;
  try {
    dir = path.dirname(require.resolve(`${pkg}/package.json`));
  } catch {
    throw new Error(
      `wxemu: no binary for ${process.platform}-${process.arch}: the package ${pkg} is not installed. ` +
        `npm installs it with wxemu unless optional dependencies are left out ` +
        `(--omit=optional, --no-optional, a lockfile made on another OS): npm install --save-dev ${pkg}. ` +
        `Or point WXEMU_BINARY at a wxemu binary (cargo install --path . in wxemu's repository).`,
    );
  }
  const bin = path.join(dir, "bin", exe);
  if (!existsSync(bin)) throw new Error(`wxemu: ${pkg} is installed but has no ${path.join("bin", exe)}; reinstall it`);
  return bin;
}
