// Stages and packs the npm packages (called by `scripts/package npm`):
//   wxemu                       the launcher, the Node API, wxemu/playwright, types
//   @wxemu/cli-<os>-<cpu>[-musl] the binary for one platform (os/cpu/libc fields,
//                                so npm installs only the matching one)
// Usage: node packages/npm/pack.mjs --binary PATH --os OS --cpu CPU [--libc glibc|musl]
//          --version V --out DIR
// Prints the path of each .tgz written, one per line.

import { execFileSync } from "node:child_process";
import { chmodSync, copyFileSync, cpSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";

const HERE = path.dirname(fileURLToPath(import.meta.url));

/** Every platform the launcher knows; the release workflow builds each. */
export const PLATFORMS = [
  { os: "linux", cpu: "x64", libc: "glibc" },
  { os: "linux", cpu: "arm64", libc: "glibc" },
  { os: "linux", cpu: "x64", libc: "musl" },
  { os: "linux", cpu: "arm64", libc: "musl" },
  { os: "darwin", cpu: "x64" },
  { os: "darwin", cpu: "arm64" },
  { os: "win32", cpu: "x64" },
  { os: "win32", cpu: "arm64" },
];

export function platformName({ os, cpu, libc }) {
  return `@wxemu/cli-${os}-${cpu}${libc === "musl" ? "-musl" : ""}`;
}

const { values: args } = parseArgs({
  options: {
    binary: { type: "string" },
    os: { type: "string" },
    cpu: { type: "string" },
    libc: { type: "string" },
    version: { type: "string" },
    out: { type: "string" },
  },
});
for (const name of ["binary", "os", "cpu", "version", "out"]) {
  if (!args[name]) throw new Error(`pack.mjs: --${name} is required`);
}
const platform = {
  os: args.os,
  cpu: args.cpu,
  libc: args.os === "linux" ? (args.libc ?? "glibc") : undefined,
};
if (!PLATFORMS.some((p) => platformName(p) === platformName(platform))) {
  throw new Error(`pack.mjs: no npm platform package for ${args.os}/${args.cpu}/${args.libc ?? ""}`);
}
const out = path.resolve(args.out);
const stage = path.join(out, "stage");
rmSync(stage, { recursive: true, force: true });
mkdirSync(stage, { recursive: true });

const pack = (dir) => {
  const json = execFileSync("npm", ["pack", "--json", "--pack-destination", out], { cwd: dir, encoding: "utf8" });
  return path.join(out, JSON.parse(json)[0].filename);
};

// The platform package: the binary and a package.json npm matches by os/cpu/libc.
const name = platformName(platform);
const cliDir = path.join(stage, "cli");
const exe = platform.os === "win32" ? "wxemu.exe" : "wxemu";
mkdirSync(path.join(cliDir, "bin"), { recursive: true });
copyFileSync(args.binary, path.join(cliDir, "bin", exe));
chmodSync(path.join(cliDir, "bin", exe), 0o755);
if (platform.os === process.platform && platform.os === "linux" && platform.cpu === process.arch) {
  // Symbols are no use to anyone running the package; debug builds halve.
  try {
    execFileSync("strip", [path.join(cliDir, "bin", exe)]);
  } catch {}
}
writeFileSync(
  path.join(cliDir, "package.json"),
  JSON.stringify(
    {
      name,
      version: args.version,
      description: `The wxemu binary for ${platform.os}-${platform.cpu}${platform.libc ? ` (${platform.libc})` : ""}; installed by the wxemu package`,
      license: "MIT",
      os: [platform.os],
      cpu: [platform.cpu],
      ...(platform.libc ? { libc: [platform.libc] } : {}),
      files: ["bin/"],
      preferUnplugged: true,
    },
    null,
    2,
  ) + "\n",
);
writeFileSync(path.join(cliDir, "README.md"), `# ${name}\n\nThe \`wxemu\` binary for ${platform.os}-${platform.cpu}. Install \`wxemu\` instead: it depends on this package on this platform.\n`);

// The main package: sources as they are, the version and the platform packages filled in.
const mainDir = path.join(stage, "wxemu");
cpSync(path.join(HERE, "wxemu"), mainDir, { recursive: true });
const manifest = JSON.parse(readFileSync(path.join(mainDir, "package.json"), "utf8"));
manifest.version = args.version;
manifest.optionalDependencies = Object.fromEntries(PLATFORMS.map((p) => [platformName(p), args.version]));
writeFileSync(path.join(mainDir, "package.json"), JSON.stringify(manifest, null, 2) + "\n");

console.log(pack(mainDir));
console.log(pack(cliDir));
rmSync(stage, { recursive: true, force: true });
