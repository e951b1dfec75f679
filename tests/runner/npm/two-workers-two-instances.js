// After the run: each worker had its own wxemu for all its tests, and no two
// workers shared one (the specs note worker index and port in WORKERS_FILE).
import { readFileSync } from "node:fs";
import { WORKERS_FILE } from "./site.js";

export default function () {
  const seen = new Map();
  for (const line of readFileSync(WORKERS_FILE, "utf8").trim().split("\n")) {
    const [worker, port] = line.split(" ");
    seen.set(worker, new Set([...(seen.get(worker) ?? []), port]));
  }
  if (seen.size < 2) throw new Error(`expected 2 workers or more, saw ${seen.size}`);
  for (const [worker, ports] of seen) {
    if (ports.size !== 1) throw new Error(`worker ${worker}'s wxemu changed between tests: ${[...ports]}`);
  }
  const ports = [...seen.values()].map((p) => [...p][0]);
  if (new Set(ports).size !== ports.length) throw new Error(`workers shared a wxemu: ${ports}`);
}
