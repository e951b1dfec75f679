// Prints the code block that follows `<!-- snippet: NAME -->` in README.md,
// so the "In your tests" snippets run as written (tests/runner/*/run.sh).
// Usage: node tests/runner/readme-snippet.mjs NAME
import { readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const name = process.argv[2];
const readme = readFileSync(path.join(path.dirname(fileURLToPath(import.meta.url)), "../../README.md"), "utf8");
const marker = `<!-- snippet: ${name} -->`;
const at = readme.indexOf(marker);
if (at < 0) throw new Error(`README.md has no ${marker}`);
const block = /```[a-z]*\n([\s\S]*?)```/.exec(readme.slice(at + marker.length));
if (!block) throw new Error(`no code block after ${marker}`);
process.stdout.write(block[1]);
