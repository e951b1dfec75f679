// The Node API: `const wx = await start()` runs a private `wxemu serve` on
// free ports in its own temporary data directory, and every method is one
// call of its control API (docs/control-api.md), never a second
// implementation: errors carry the control API's own message.

import { spawn } from "node:child_process";
import { createHash, X509Certificate } from "node:crypto";
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync } from "node:fs";
import https from "node:https";
import { tmpdir } from "node:os";
import path from "node:path";
import { binaryPath } from "./lib/binary.js";

export { binaryPath, platformPackage } from "./lib/binary.js";

const HOST = "localhost.weixin.qq.com";
const CONTROL = "/__wxemu";
/** How long start() waits for the ready file before giving up. */
const START_TIMEOUT_MS = 30_000;
/** How much of serve's stderr is kept for error messages. */
const STDERR_KEEP = 16 * 1024;

let started = 0;

/**
 * Starts wxemu. Options (all optional):
 * - approve: "ask" (default: logins wait for wx.decide() or the policy) | "auto" | "deny" | "never"
 * - intercept: true (default): the interception proxy on a free port (wx.proxy, wx.pacUrl)
 * - port: 0 (default: a free port)
 * - dataDir: a data directory to use (default: a new temporary one, deleted by stop())
 * - accounts: [{ id, nickname, ... }] added through the control API
 * - apps: [{ appid, secret, name, callback_domains, ... }] added through the control API
 * - args: more `wxemu serve` arguments, e.g. ["--decision-timeout", "5s"]
 * - env: more environment for the process (e.g. { RUST_LOG: "wxemu=debug" })
 * - caDir: share the CAs through this directory: a new data directory starts
 *   with the CAs found there (no key generation: faster, and one trust covers
 *   every instance), and the first instance leaves its CAs there
 */
export async function start(options = {}) {
  const {
    approve = "ask",
    intercept = true,
    port = 0,
    accounts = [],
    apps = [],
    args = [],
    env = {},
    caDir,
  } = options;
  const ownDir = !options.dataDir;
  const dataDir = options.dataDir ?? mkdtempSync(path.join(tmpdir(), "wxemu-"));
  const readyFile = path.join(dataDir, `ready-${process.pid}-${++started}.json`);
  rmSync(readyFile, { force: true });
  if (caDir) seedCas(caDir, dataDir);
  const serveArgs = [
    "serve",
    "--port", String(port),
    "--data-dir", dataDir,
    "--ready-file", readyFile,
    "--approve", approve,
    "--only-own-port",
    ...(intercept ? ["--proxy-port", "0"] : []),
    ...args,
  ];
  const child = spawn(binaryPath(), serveArgs, {
    stdio: ["ignore", "ignore", "pipe"],
    env: { ...process.env, ...env },
  });
  let stderr = "";
  child.stderr.setEncoding("utf8");
  child.stderr.on("data", (chunk) => {
    stderr = (stderr + chunk).slice(-STDERR_KEEP);
  });
  const cleanup = () => {
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
    if (ownDir) rmSync(dataDir, { recursive: true, force: true });
  };
  let ready;
  try {
    ready = await waitForReady(readyFile, child, () => stderr);
  } catch (e) {
    cleanup();
    throw e;
  }
  if (caDir) keepCas(caDir, dataDir);
  const wx = new Wxemu(ready, child, {
    token: readFileSync(ready.token_file, "utf8").trim(),
    dataDir,
    ownDir,
    readyFile,
  });
  try {
    for (const account of accounts) await wx.accounts.add(account);
    for (const app of apps) await wx.apps.add(app);
  } catch (e) {
    await wx.stop();
    throw e;
  }
  return wx;
}

/** The CAs, each with its key (and what it signed once), shared as a whole directory per CA. */
const CAS = {
  // The leaf for localhost.weixin.qq.com too: the same for every instance.
  "fast-login": ["ca.pem", "ca-key.pem", "leaf.pem", "leaf-key.pem"],
  intercept: ["intercept-ca.pem", "intercept-ca-key.pem"],
};

/** Copies the shared CAs into a data directory that has none yet. */
function seedCas(caDir, dataDir) {
  for (const [name, files] of Object.entries(CAS)) {
    const shared = path.join(caDir, name);
    if (!existsSync(shared) || files.some((f) => existsSync(path.join(dataDir, f)))) continue;
    for (const f of files) {
      copyFileSync(path.join(shared, f), path.join(dataDir, f));
      if (f.endsWith("-key.pem")) chmodSync(path.join(dataDir, f), 0o600);
    }
  }
}

/**
 * Leaves this instance's CAs in caDir for the next ones: each CA's pair goes
 * into a temporary directory renamed into place whole, so a reader sees a
 * complete pair or none, and of two racing instances one simply wins.
 */
function keepCas(caDir, dataDir) {
  mkdirSync(caDir, { recursive: true, mode: 0o700 });
  for (const [name, files] of Object.entries(CAS)) {
    const shared = path.join(caDir, name);
    if (existsSync(shared) || !files.every((f) => existsSync(path.join(dataDir, f)))) continue;
    const temp = mkdtempSync(path.join(caDir, `.${name}-`));
    for (const f of files) copyFileSync(path.join(dataDir, f), path.join(temp, f));
    try {
      renameSync(temp, shared);
    } catch {
      rmSync(temp, { recursive: true, force: true }); // another instance won
    }
  }
}

/** Resolves with the ready file's JSON, or rejects with serve's own error. */
function waitForReady(file, child, stderr) {
  return new Promise((resolve, reject) => {
    let timer;
    const done = (fn, value) => {
      clearTimeout(timer);
      child.off("exit", onExit);
      fn(value);
    };
    const onExit = (code, signal) => {
      // serve says what went wrong in one line starting with "wxemu: ".
      const said = stderr().split("\n").reverse().find((l) => l.startsWith("wxemu: "));
      done(reject, new Error(said ?? `wxemu serve exited (${signal ?? `code ${code}`}) before it was ready:\n${stderr()}`));
    };
    child.on("exit", onExit);
    const deadline = Date.now() + START_TIMEOUT_MS;
    const poll = () => {
      if (existsSync(file)) {
        try {
          return done(resolve, JSON.parse(readFileSync(file, "utf8")));
        } catch {} // written atomically, so only a reader racing a rename lands here
      }
      if (Date.now() > deadline) {
        child.kill("SIGKILL");
        return done(reject, new Error(`wxemu serve was not ready after ${START_TIMEOUT_MS} ms:\n${stderr()}`));
      }
      timer = setTimeout(poll, 2);
    };
    poll();
  });
}

/** An error of the control API: its message, the status, the call. */
export class WxemuError extends Error {
  constructor(message, { status, method, path, body } = {}) {
    super(message);
    this.name = "WxemuError";
    this.status = status;
    this.method = method;
    this.path = path;
    this.body = body;
  }
}

export class Wxemu {
  #child;
  #token;
  #agent;
  #ownDir;
  #readyFile;
  #exited;

  constructor(ready, child, { token, dataDir, ownDir, readyFile }) {
    this.#child = child;
    this.#token = token;
    this.#ownDir = ownDir;
    this.#readyFile = readyFile;
    this.#exited = new Promise((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) resolve();
      else child.once("exit", resolve);
    });
    /** https://localhost.weixin.qq.com:<port> */
    this.url = ready.url;
    this.port = ready.port;
    /** Every bound port: { https, http_api, proxy, intercept }. */
    this.ports = ready.ports;
    /** The interception proxy, http://127.0.0.1:<port> (null without intercept). */
    this.proxy = ready.proxy ?? null;
    this.pacUrl = ready.pac_url ?? null;
    this.caPath = ready.ca;
    this.interceptCaPath = ready.intercept_ca ?? null;
    this.token = token;
    this.dataDir = dataDir;
    this.pid = ready.pid;
    this.version = ready.version;
    // One TLS agent trusting only this wxemu's CA, connecting to 127.0.0.1
    // with SNI localhost.weixin.qq.com: no DNS, no proxy variables involved.
    this.#agent = new https.Agent({
      keepAlive: true,
      ca: readFileSync(ready.ca),
      servername: HOST,
    });

    this.clock = {
      /** Moves the emulated clock: "10m", "2h". */
      advance: (by) => this.api("POST", "/clock/advance", { by }),
      freeze: () => this.api("POST", "/clock/freeze"),
      unfreeze: () => this.api("POST", "/clock/unfreeze"),
      now: () => this.api("GET", "/clock"),
    };
    this.journal = {
      /** Recorded requests; filter: { endpoint, path, app, errcode, method, host, since, limit }. */
      list: async (filter = {}) => (await this.api("GET", `/journal${query(filter)}`)).entries,
      clear: () => this.api("DELETE", "/journal"),
      waitFor: (filter = {}) => this.#waitFor(filter),
    };
    this.accounts = {
      add: (account) => this.api("POST", "/accounts", account),
      list: () => this.api("GET", "/accounts"),
      get: (id) => this.api("GET", `/accounts/${encodeURIComponent(id)}`),
      update: (id, change) => this.api("PATCH", `/accounts/${encodeURIComponent(id)}`, change),
      remove: (id) => this.api("DELETE", `/accounts/${encodeURIComponent(id)}`),
    };
    this.apps = {
      add: (app) => this.api("POST", "/apps", app),
      list: () => this.api("GET", "/apps"),
      get: (appid) => this.api("GET", `/apps/${encodeURIComponent(appid)}`),
      update: (appid, change) => this.api("PATCH", `/apps/${encodeURIComponent(appid)}`, change),
      remove: (appid) => this.api("DELETE", `/apps/${encodeURIComponent(appid)}`),
    };
  }

  /**
   * Any control API call, parsed JSON. `path` is relative to /__wxemu
   * ("/client") or absolute ("/__wxemu/client"). Rejects with the API's
   * own message (a WxemuError with `status`).
   */
  api(method, apiPath, body) {
    const full = apiPath.startsWith(CONTROL + "/") ? apiPath : CONTROL + apiPath;
    return this.#send(method, full, body).then(({ status, text }) => {
      let value = null;
      try {
        value = text ? JSON.parse(text) : null;
      } catch {
        value = text;
      }
      if (status >= 200 && status < 300) return value;
      const message = value?.error ?? text;
      throw new WxemuError(`wxemu: ${method} ${full}: ${status}: ${message}`, { status, method, path: full, body: value });
    });
  }

  /** One HTTPS request to this wxemu: { status, text }. */
  #send(method, full, body) {
    const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
    return new Promise((resolve, reject) => {
      const req = https.request(
        {
          host: "127.0.0.1",
          port: this.port,
          method,
          path: full,
          agent: this.#agent,
          headers: {
            host: `${HOST}:${this.port}`,
            authorization: `Bearer ${this.#token}`,
            ...(payload ? { "content-type": "application/json", "content-length": payload.length } : {}),
          },
        },
        (res) => {
          const chunks = [];
          res.on("data", (c) => chunks.push(c));
          res.on("end", () => resolve({ status: res.statusCode, text: Buffer.concat(chunks).toString("utf8") }));
          res.on("error", reject);
        },
      );
      req.on("error", (e) =>
        reject(new WxemuError(`wxemu: ${method} ${full}: ${e.message}${this.#child.exitCode !== null ? " (wxemu has exited)" : ""}`)),
      );
      req.end(payload);
    });
  }

  /**
   * Makes a Playwright browser context WeChat's in-app browser (docs/h5.md):
   * wxemu's bridge runs before every page's own scripts (WeixinJSBridge, so
   * the real jweixin's wx.config is verified as WeChat does), and every
   * request carries WeChat's User-Agent. `os`: "ios" (default) or "android".
   */
  async wechatBrowser(context, { os = "ios" } = {}) {
    const path = `/h5/bridge.js?os=${encodeURIComponent(os)}`;
    const { status, text } = await this.#send("GET", path);
    if (status !== 200) throw new WxemuError(`wxemu: GET ${path}: ${status}: ${text}`, { status, method: "GET", path });
    // The User-Agent the bridge itself plays, from its config.
    const ua = /"ua":"([^"]+)"/.exec(text)?.[1];
    if (!ua) throw new WxemuError(`wxemu: GET ${path}: no "ua" in the bridge's config`);
    await context.setExtraHTTPHeaders({ "user-agent": ua });
    await context.addInitScript({ content: text });
    return context;
  }

  /**
   * The next login decision: "allow" (optionally as { account }), "deny" or
   * "timeout". Options: { account, delay, count }.
   */
  decide(decision, options = {}) {
    return this.api("POST", "/decisions", { decision, ...options });
  }

  /** The phone of { account } scans QR login `uuid` (default: the newest). */
  scan(uuid, options) {
    if (typeof uuid === "object" && uuid !== null) [uuid, options] = [undefined, uuid];
    return this.api("POST", `/qr/${encodeURIComponent(uuid ?? "latest")}/scan`, options ?? {});
  }

  /** The phone confirms QR login `uuid` (default: the newest). */
  confirm(uuid) {
    return this.api("POST", `/qr/${encodeURIComponent(uuid ?? "latest")}/confirm`, {});
  }

  /** The phone cancels QR login `uuid` (default: the newest). */
  cancel(uuid) {
    return this.api("POST", `/qr/${encodeURIComponent(uuid ?? "latest")}/cancel`, {});
  }

  /** Injects a fault: { endpoint, errcode | status | drop, latency, once | times }. */
  fault(spec) {
    return this.api("POST", "/faults", spec);
  }

  /** The client's state: { state: "logged_in" | "logged_out" | "locked", account }. */
  client(change) {
    return change ? this.api("PATCH", "/client", change) : this.api("GET", "/client");
  }

  /** Back to the state right after start (accounts and apps stay). */
  reset() {
    return this.api("POST", "/reset");
  }

  async #waitFor(filter) {
    const { timeout = "30s", ...rest } = filter;
    const answer = await this.api("GET", `/journal/wait${query({ ...rest, timeout })}`);
    if (!answer.timed_out) return answer.entry;
    const { entries } = await this.api("GET", "/journal?limit=5");
    const seen = entries.length
      ? entries.map((e) => `  #${e.id} ${e.method} ${e.host}${e.path} endpoint=${e.endpoint} status=${e.status}${e.errcode != null ? ` errcode=${e.errcode}` : ""}`).join("\n")
      : "  (the journal is empty)";
    throw new WxemuError(
      `wxemu: no request matching ${JSON.stringify(rest)} within ${timeout}; the newest entries:\n${seen}`,
      { status: 408, method: "GET", path: "/__wxemu/journal/wait" },
    );
  }

  /** Stops wxemu (SIGTERM: held requests are answered first) and removes its temporary data directory. */
  async stop() {
    if (this.#child.exitCode === null && this.#child.signalCode === null) {
      this.#child.kill("SIGTERM");
      const killer = setTimeout(() => this.#child.kill("SIGKILL"), 10_000);
      await this.#exited;
      clearTimeout(killer);
    }
    this.#agent.destroy();
    rmSync(this.#readyFile, { force: true });
    if (this.#ownDir) rmSync(this.dataDir, { recursive: true, force: true });
  }

  /** Chromium flags that send WeChat's hosts to this wxemu and trust only its CAs (see chromiumArgs()). */
  chromiumArgs() {
    return chromiumArgs({ proxy: this.proxy, caPath: this.caPath, interceptCaPath: this.interceptCaPath });
  }
}

// `await using wx = await start()` stops it at the end of the block (Node 24+).
if (Symbol.asyncDispose) {
  Wxemu.prototype[Symbol.asyncDispose] = function () {
    return this.stop();
  };
}

/**
 * Chromium flags that send WeChat's hosts to a wxemu and trust its CAs only,
 * changing nothing on the machine: the interception proxy for the real names
 * (open.weixin.qq.com...), localhost.weixin.qq.com straight to 127.0.0.1 (no
 * DNS), and both CAs' public keys allowed by hash (wxemu sends its CA in
 * every chain). Chromium honours the hash list only with --user-data-dir,
 * which Playwright and Cypress always pass. Without arguments: the wxemu of
 * `wxemu exec` (WXEMU_PROXY, WXEMU_CA, WXEMU_INTERCEPT_CA).
 */
export function chromiumArgs({
  proxy = process.env.WXEMU_PROXY,
  caPath = process.env.WXEMU_CA,
  interceptCaPath = process.env.WXEMU_INTERCEPT_CA,
} = {}) {
  if (!caPath) throw new Error("wxemu: chromiumArgs() needs a wxemu: start() one, or run under `wxemu exec` (WXEMU_CA is not set)");
  const hashes = [caPath, interceptCaPath].filter(Boolean).map(spkiHash);
  return [
    ...(proxy ? [`--proxy-server=${proxy}`, `--proxy-bypass-list=${HOST}`] : []),
    `--host-resolver-rules=MAP ${HOST} 127.0.0.1`,
    `--ignore-certificate-errors-spki-list=${hashes.join(",")}`,
  ];
}

/** base64 SHA-256 of a certificate's SubjectPublicKeyInfo (Chromium's SPKI hash). */
function spkiHash(pemPath) {
  const cert = new X509Certificate(readFileSync(pemPath));
  const spki = cert.publicKey.export({ type: "spki", format: "der" });
  return createHash("sha256").update(spki).digest("base64");
}

function query(params) {
  const entries = Object.entries(params).filter(([, v]) => v !== undefined && v !== null);
  return entries.length ? `?${new URLSearchParams(entries.map(([k, v]) => [k, String(v)]))}` : "";
}
