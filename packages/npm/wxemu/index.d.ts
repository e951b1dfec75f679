// Types of the Node API (index.js). Every method is one control API call
// (docs/control-api.md in wxemu's repository).

export type Approve = "ask" | "auto" | "deny" | "never";

export interface Account {
  id: string;
  nickname?: string;
  [field: string]: unknown;
}

export interface App {
  appid: string;
  secret?: string;
  name?: string;
  callback_domains?: string[];
  scan_only?: boolean;
  [field: string]: unknown;
}

export interface StartOptions {
  /** How logins are answered when no decision is queued (default "ask": they wait for decide()). */
  approve?: Approve;
  /** Run the interception proxy for WeChat's real host names (default true). */
  intercept?: boolean;
  /** The HTTPS port (default 0: a free one). */
  port?: number;
  /** A data directory to use (default: a new temporary one, removed by stop()). */
  dataDir?: string;
  accounts?: Account[];
  apps?: App[];
  /** More `wxemu serve` arguments. */
  args?: string[];
  /** More environment for the wxemu process. */
  env?: Record<string, string>;
  /** Share the CAs through this directory (no key generation for later instances; one trust covers all). */
  caDir?: string;
}

export interface Ports {
  https: number;
  http_api: number | null;
  proxy: number | null;
  intercept: number | null;
}

export interface JournalEntry {
  id: number;
  at: number;
  method: string;
  host: string;
  path: string;
  endpoint: string | null;
  origin?: string | null;
  app?: string | null;
  body?: unknown;
  query?: string | null;
  status: number | null;
  errcode?: number | null;
  decision?: string | null;
  account?: string | null;
  fault?: string | null;
  latency_ms?: number;
  [field: string]: unknown;
}

export interface JournalFilter {
  endpoint?: string;
  path?: string;
  app?: string;
  errcode?: number;
  method?: string;
  host?: string;
  since?: number;
}

export interface FaultSpec {
  endpoint: "check-login" | "authorize" | "token" | "long-poll" | "qrcode" | "login-page" | "webwx-login" | "webwx" | string;
  errcode?: number;
  status?: number;
  drop?: boolean;
  latency?: string;
  once?: boolean;
  times?: number;
}

export interface DecideOptions {
  /** Allow as this account instead of the one check-login showed. */
  account?: string;
  delay?: string;
  count?: number;
}

export declare class WxemuError extends Error {
  status?: number;
  method?: string;
  path?: string;
  body?: unknown;
}

export declare class Wxemu {
  /** https://localhost.weixin.qq.com:<port> */
  readonly url: string;
  readonly port: number;
  readonly ports: Ports;
  /** http://127.0.0.1:<port>, or null without intercept. */
  readonly proxy: string | null;
  readonly pacUrl: string | null;
  readonly caPath: string;
  readonly interceptCaPath: string | null;
  readonly token: string;
  readonly dataDir: string;
  readonly pid: number;
  readonly version: string;

  /** Any control API call ("/client" or "/__wxemu/client"), parsed JSON. */
  api<T = any>(method: string, path: string, body?: unknown): Promise<T>;
  decide(decision: "allow" | "deny" | "timeout", options?: DecideOptions): Promise<any>;
  scan(uuid?: string, options?: { account?: string }): Promise<any>;
  scan(options: { account?: string }): Promise<any>;
  confirm(uuid?: string): Promise<any>;
  cancel(uuid?: string): Promise<any>;
  fault(spec: FaultSpec): Promise<any>;
  client(change?: { state?: "logged_in" | "logged_out" | "locked"; account?: string }): Promise<any>;
  reset(): Promise<any>;
  stop(): Promise<void>;
  /** Makes a Playwright BrowserContext WeChat's in-app browser: the H5 bridge before page scripts, WeChat's User-Agent. */
  wechatBrowser<C extends { setExtraHTTPHeaders(h: Record<string, string>): Promise<void>; addInitScript(s: { content: string }): Promise<void> }>(
    context: C,
    options?: { os?: "ios" | "android" },
  ): Promise<C>;
  /** Chromium flags that route WeChat's hosts here and trust only this wxemu's CAs. */
  chromiumArgs(): string[];

  readonly clock: {
    advance(by: string): Promise<any>;
    freeze(): Promise<any>;
    unfreeze(): Promise<any>;
    now(): Promise<any>;
  };
  readonly journal: {
    list(filter?: JournalFilter & { limit?: number }): Promise<JournalEntry[]>;
    clear(): Promise<any>;
    /** The first matching entry (already recorded or arriving); rejects on timeout naming the filter and the newest entries. */
    waitFor(filter?: JournalFilter & { timeout?: string }): Promise<JournalEntry>;
  };
  readonly accounts: {
    add(account: Account): Promise<any>;
    list(): Promise<any>;
    get(id: string): Promise<any>;
    update(id: string, change: Partial<Account>): Promise<any>;
    remove(id: string): Promise<any>;
  };
  readonly apps: {
    add(app: App): Promise<any>;
    list(): Promise<any>;
    get(appid: string): Promise<any>;
    update(appid: string, change: Partial<App>): Promise<any>;
    remove(appid: string): Promise<any>;
  };
}

export declare function start(options?: StartOptions): Promise<Wxemu>;
/** Chromium flags routing WeChat's hosts to a wxemu and trusting only its CAs; default: the wxemu of `wxemu exec` (WXEMU_* variables). */
export declare function chromiumArgs(wxemu?: { proxy?: string | null; caPath?: string; interceptCaPath?: string | null }): string[];
/** The wxemu binary for this machine (from @wxemu/cli-<os>-<cpu>, or WXEMU_BINARY). */
export declare function binaryPath(): string;
/** The platform package this machine needs, e.g. "@wxemu/cli-linux-x64". */
export declare function platformPackage(): string;
