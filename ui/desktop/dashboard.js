// The dashboard: state switches, pending requests, the accounts and apps
// editors (saved atomically to the config file by the app), the CA.
"use strict";
const { invoke } = window.__TAURI__.core;
const { listen } = window.__TAURI__.event;
const $ = (id) => document.getElementById(id);

const TEXT = {
  zh: {
    dashboard: "控制台", tab_status: "状态", tab_pending: "待确认", tab_accounts: "账号", tab_apps: "应用",
    tab_ca: "证书", tab_journal: "请求日志", tab_qr: "二维码",
    port_in_use_title: "端口被占用，服务未启动",
    port_in_use_help: "可能是另一个 wxemu，或真实的微信客户端（占用 14013）。可换用网页也会尝试的下一个端口：",
    use_port: "改用端口 {p}", listening: "监听地址", client_state: "客户端状态", logged_in: "已登录",
    logged_out: "未登录", locked: "已锁定（测试二维码回退）", account: "当前账号", approval: "登录确认方式",
    mode_ask: "询问（弹出确认窗口）", mode_auto: "自动允许", mode_deny: "自动拒绝", mode_never: "不回应（超时 10046）",
    config_file: "配置文件", data_dir: "数据目录", latency: "上次确认窗口延迟",
    pending_hint: "等待确认的登录请求；也可在确认窗口中回答。", col_app: "应用", col_site: "网站",
    col_account: "账号", col_left: "剩余", none_pending: "没有待确认的请求", allow: "允许", deny: "拒绝",
    accounts_hint: "保存后写入配置文件（原子写入）。", nickname: "昵称", sex: "性别", city: "城市",
    add: "添加", save: "保存", remove: "删除", apps_hint: "网站应用（开放平台）。保存后写入配置文件。",
    app_name: "名称", callback_domains: "回调域名（逗号分隔）", ca_path: "CA 证书路径", ca_status: "信任状态",
    ca_hint: "在系统中信任此 CA 的命令：", copy: "复制命令", trusted: "已信任", partly: "部分信任", not_trusted: "未信任",
    unknown: "未知", saved: "已保存", copied: "已复制", running: "运行中", stopped: "未运行",
    filter_placeholder: "筛选：路径、来源、应用、errcode…", all_endpoints: "全部接口", clear: "清空",
    col_time: "时间", col_endpoint: "接口", col_decision: "决定", col_latency: "耗时", journal_empty: "还没有请求",
    copy_curl: "复制为 curl", copied_curl: "已复制 curl 命令（密钥已打码）",
    qr_hint: "开放平台登录页显示的二维码：以某个账号“扫码”，再确认或取消（模拟手机）。", col_status: "状态",
    qr_empty: "没有二维码登录", scan_as: "扫码：", confirm: "确认登录", cancel: "取消",
    waiting: "等待扫码", scanned: "已扫码", cancelled: "已取消", confirmed: "已确认", expired: "已过期",
    autostart: "开机启动", autostart_hint: "登录系统时启动 wxemu（托盘）", trust: "信任证书（所有证书库）",
    uninstall: "移除证书", recheck: "重新检查", open_demo: "打开演示",
    ca_working: "正在修改证书库… 系统可能会要求输入管理员密码。", demo_opened: "已在浏览器中打开演示",
    tab_webwx: "网页微信", webwx_hint: "机器人（itchat、wechat4u…）的网页微信会话：消息实时显示；以好友或群的身份给机器人发消息，或从“手机”退出登录。",
    webwx_end: "退出登录（手机）", webwx_placeholder: "发给机器人的消息…", send: "发送",
    webwx_empty: "还没有网页微信会话：让机器人扫码登录（二维码页签可扫码确认）。", live: "在线", ended: "已结束",
    intercept: "拦截（代理）", intercept_on: "已开启", intercept_off: "未开启（wxemu serve --proxy-port 开启）",
    proxy_port: "代理端口", hosts_port: "主机模式端口", intercept_ca: "拦截 CA：", ca_none: "尚未创建",
    app_kind: "类型", kind_website: "网站应用", kind_official_account: "公众号",
    oauth_domains: "网页授权域名", js_domains: "JS 接口安全域名（最多 3 个）",
    tab_h5: "H5 网页", h5_hint: "在微信内置浏览器中打开网页（任意地址，包括 http://localhost:5173）：带微信的 User-Agent 和 wxemu 的 JS-SDK 桥，微信的域名由 wxemu 应答。",
    wechat_open: "在微信中打开网页…", wechat_opened: "已打开微信窗口", h5_pending: "等待回答的支付 / 扫码",
    h5_page: "网页", h5_none_pending: "没有等待回答的调用", h5_outcomes: "预设结果（下一次调用的回答）",
    h5_result: "结果", h5_times: "次数", h5_no_outcomes: "没有预设结果：支付和扫码在微信窗口中询问，其余回答 ok",
    h5_data_placeholder: "data（JSON 对象，可选），如 {\"resultStr\":\"hello\"}", h5_pages: "通过 wx.config 验证的网页",
    h5_warnings: "提醒", h5_no_pages: "还没有网页通过 wx.config", pay: "确认支付", scan_ok: "确定",
  },
  en: {
    dashboard: "Dashboard", tab_status: "Status", tab_pending: "Pending", tab_accounts: "Accounts", tab_apps: "Apps",
    tab_ca: "Certificate", tab_journal: "Journal", tab_qr: "QR codes",
    port_in_use_title: "The port is in use: wxemu is not serving",
    port_in_use_help: "Another wxemu, or a real WeChat (it uses 14013)? Use the next port the login page tries:",
    use_port: "Use port {p}", listening: "Listening", client_state: "Client state", logged_in: "Logged in",
    logged_out: "Logged out", locked: "Locked (tests the QR fallback)", account: "Account", approval: "Approval",
    mode_ask: "Ask (confirm window)", mode_auto: "Allow all", mode_deny: "Deny all", mode_never: "Never answer (10046)",
    config_file: "Config file", data_dir: "Data directory", latency: "Last confirm window latency",
    pending_hint: "Login requests waiting for an answer; the confirm window answers them too.", col_app: "App",
    col_site: "Site", col_account: "Account", col_left: "Left", none_pending: "No pending requests", allow: "Allow",
    deny: "Deny", accounts_hint: "Saved to the config file atomically.", nickname: "Nickname", sex: "Sex",
    city: "City", add: "Add", save: "Save", remove: "Remove", apps_hint: "Website apps (Open Platform). Saved to the config file.",
    app_name: "Name", callback_domains: "Callback domains (comma separated)", ca_path: "CA certificate",
    ca_status: "Trust status", ca_hint: "Commands that trust this CA on this system:", copy: "Copy commands",
    trusted: "Trusted", partly: "Trusted in some stores only", not_trusted: "Not trusted", unknown: "Unknown", saved: "Saved", copied: "Copied",
    running: "Running", stopped: "Not serving",
    filter_placeholder: "Filter: path, origin, app, errcode…", all_endpoints: "All endpoints", clear: "Clear",
    col_time: "Time", col_endpoint: "Endpoint", col_decision: "Decision", col_latency: "Latency", journal_empty: "No requests yet",
    copy_curl: "Copy as curl", copied_curl: "curl command copied (secrets are masked)",
    qr_hint: "The QR codes the Open Platform login page shows: scan one as an account, then confirm or cancel (the phone's part).",
    col_status: "Status", qr_empty: "No QR logins", scan_as: "Scan as:", confirm: "Confirm", cancel: "Cancel",
    waiting: "Waiting", scanned: "Scanned", cancelled: "Cancelled", confirmed: "Confirmed", expired: "Expired",
    autostart: "Start at login", autostart_hint: "Start wxemu (in the tray) when you log in", trust: "Trust (every store)",
    uninstall: "Remove", recheck: "Check again", open_demo: "Open the demo",
    ca_working: "Changing the trust stores… the system may ask for an administrator password.", demo_opened: "The demo is open in your browser",
    tab_webwx: "Web WeChat", webwx_hint: "Bots' Web WeChat sessions (itchat, wechat4u…): messages appear live; write to the bot as a friend or group, or log it out from the phone.",
    webwx_end: "Log out (phone)", webwx_placeholder: "A message to the bot…", send: "Send",
    webwx_empty: "No Web WeChat session yet: let a bot log in (scan and confirm its code in the QR codes tab).", live: "Live", ended: "Ended",
    intercept: "Interception", intercept_on: "On", intercept_off: "Off (wxemu serve --proxy-port turns it on)",
    proxy_port: "proxy port", hosts_port: "hosts-mode port", intercept_ca: "Interception CA:", ca_none: "not created yet",
    app_kind: "Kind", kind_website: "Website", kind_official_account: "Official account",
    oauth_domains: "OAuth domains (网页授权)", js_domains: "JS domains (at most 3)",
    tab_h5: "H5 pages", h5_hint: "Open a page in WeChat's in-app browser (any URL, http://localhost:5173 too): WeChat's User-Agent and wxemu's JS-SDK bridge, with WeChat's hosts answered by wxemu.",
    wechat_open: "Open a page in WeChat…", wechat_opened: "WeChat window opened", h5_pending: "Pay and scan calls waiting",
    h5_page: "Page", h5_none_pending: "No call is waiting", h5_outcomes: "Queued outcomes (what the next calls answer)",
    h5_result: "Result", h5_times: "Times", h5_no_outcomes: "No queued outcome: pay and scan ask in the WeChat window, the rest answer ok",
    h5_data_placeholder: "data (a JSON object, optional), e.g. {\"resultStr\":\"hello\"}", h5_pages: "Pages that passed wx.config",
    h5_warnings: "Warnings", h5_no_pages: "No page has passed wx.config yet", pay: "Pay", scan_ok: "OK",
  },
};
let lang = localStorage.getItem("lang") || (navigator.language.startsWith("zh") ? "zh" : "en");
const t = (key, vars = {}) => (TEXT[lang][key] || key).replace(/\{(\w+)\}/g, (_, k) => vars[k]);

function translate() {
  document.documentElement.lang = lang === "zh" ? "zh-CN" : "en";
  document.querySelectorAll("[data-t]").forEach((el) => { el.textContent = t(el.dataset.t); });
  document.querySelectorAll("[data-tp]").forEach((el) => { el.placeholder = t(el.dataset.tp); });
  $("lang").textContent = lang === "zh" ? "EN" : "中文";
}

function toast(message, error = false) {
  const el = $("toast");
  el.textContent = message;
  el.className = error ? "toast error" : "toast";
  el.hidden = false;
  clearTimeout(toast.timer);
  toast.timer = setTimeout(() => { el.hidden = true; }, error ? 6000 : 2000);
}

async function call(cmd, args) {
  try { return await invoke(cmd, args); } catch (e) { toast(String(e), true); throw e; }
}

let status = null;
async function refresh() {
  status = await invoke("status");
  const badge = $("server-badge");
  badge.textContent = status.running ? `${t("running")} · :${status.port}` : t("stopped");
  badge.className = "badge " + (status.running ? "ok" : "bad");
  const f = status.failure;
  $("failure").hidden = !f;
  if (f) {
    $("failure-message").textContent = f.message;
    const button = $("use-suggestion");
    button.hidden = !f.suggestion;
    if (f.suggestion) button.textContent = t("use_port", { p: f.suggestion });
  }
  $("listening").textContent = status.running ? `https://localhost.weixin.qq.com:${status.port}  (127.0.0.1:${status.port})` : "—";
  if (status.client_state) $("client-state").value = status.client_state;
  if (status.approval_mode) $("approval").value = status.approval_mode;
  $("config-path").textContent = status.config_path;
  $("data-dir").textContent = status.data_dir;
  $("latency").textContent = status.last_confirm_latency_ms != null ? `${status.last_confirm_latency_ms} ms` : "—";
  renderPending();
  renderCa();
  const autostart = await invoke("autostart_get");
  $("autostart").disabled = autostart == null;
  $("autostart").checked = !!autostart;
  if (status.running) {
    const editable = await invoke("config_get");
    const select = $("account");
    select.replaceChildren(...editable.accounts.map((a) => new Option(`${a.nickname} (${a.id})`, a.id)));
    accountIds = editable.accounts.map((a) => [a.id, `${a.nickname} (${a.id})`]);
    if (status.account) select.value = status.account.id;
    if (!editing.accounts) renderAccounts(editable.accounts);
    if (!editing.apps) renderApps(editable.apps);
    await Promise.all([refreshJournal(), refreshQr(), refreshWebwx(), refreshH5()]);
  }
}

function renderPending() {
  const rows = status.pending.map((r) => {
    const tr = document.createElement("tr");
    const left = Math.max(0, Math.round((r.received_at + parseDuration(r.timeout) - Date.now()) / 1000));
    for (const v of [r.id, r.app_name, r.site, r.nickname, `${left}s`]) {
      const td = document.createElement("td"); td.textContent = v; tr.append(td);
    }
    const td = document.createElement("td");
    const allow = document.createElement("button"); allow.className = "primary"; allow.textContent = t("allow");
    allow.onclick = () => call("resolve", { id: r.id, decision: "allow" }).then(refresh);
    const deny = document.createElement("button"); deny.textContent = t("deny");
    deny.onclick = () => call("resolve", { id: r.id, decision: "deny" }).then(refresh);
    td.append(allow, " ", deny); tr.append(td);
    return tr;
  });
  $("pending-rows").replaceChildren(...rows);
  $("pending-empty").hidden = rows.length > 0;
}

// humantime's format as serde writes it: "1m 30s", "500ms".
function parseDuration(text) {
  const unit = { ms: 1, s: 1000, m: 60000, h: 3600000, d: 86400000 };
  let total = 0;
  for (const [, n, u] of String(text).matchAll(/(\d+)\s*(ms|s|m|h|d)/g)) total += Number(n) * unit[u];
  return total;
}

function renderCa() {
  const trust = status.trust;
  $("ca-path").textContent = trust ? trust.ca_path : "—";
  const s = $("ca-status");
  s.textContent = trust ? t(trust.status) : "—";
  s.className = trustClass(trust && trust.status);
  $("ca-commands").textContent = trust ? trust.commands.join("\n") : "";
  trustReport.render($("ca-stores"), trust ? trust.stores : []);
}

// Trust / Remove: one line per store, from the app (the system store goes
// through the OS's administrator prompt).
async function changeTrust(cmd) {
  for (const id of ["ca-trust", "ca-uninstall", "ca-recheck"]) $(id).disabled = true;
  $("ca-working").hidden = false;
  try {
    trustReport.render($("ca-report"), await call(cmd));
    await refresh();
  } finally {
    $("ca-working").hidden = true;
    for (const id of ["ca-trust", "ca-uninstall", "ca-recheck"]) $(id).disabled = false;
  }
}

// ---- journal ----
let journal = [];
async function refreshJournal() {
  const endpoint = $("journal-endpoint").value || null;
  journal = await invoke("journal_list", { filter: endpoint ? { endpoint } : null, limit: 500 });
  renderJournal();
}
function renderJournal() {
  const needle = $("journal-filter").value.trim().toLowerCase();
  const shown = journal.filter((e) => !needle ||
    [e.path, e.origin, e.app, e.errcode, e.decision, e.method].some((v) => v != null && String(v).toLowerCase().includes(needle)));
  const rows = shown.slice().reverse().map((e) => {
    const tr = document.createElement("tr");
    const cells = [new Date(e.at).toLocaleTimeString(), e.origin || "—", `${e.method} ${e.path}`, e.app || "—",
      e.errcode ?? (e.status ?? "—"), e.decision || "—", `${Math.round(e.latency_ms)} ms`];
    cells.forEach((v, i) => {
      const td = document.createElement("td"); td.textContent = v;
      if (i === 1) td.className = "origin";
      if (i === 4 && e.errcode != null) td.className = e.errcode === 0 ? "okc" : "err";
      tr.append(td);
    });
    const td = document.createElement("td");
    const copy = document.createElement("button"); copy.textContent = t("copy_curl");
    copy.onclick = () => navigator.clipboard.writeText(curlOf(e)).then(() => toast(t("copied_curl")));
    td.append(copy); tr.append(td);
    return tr;
  });
  $("journal-rows").replaceChildren(...rows);
  $("journal-empty").hidden = rows.length > 0;
}
const shq = (s) => `'${String(s).replace(/'/g, "'\\''")}'`;
// The request again, over the same TLS, validated against wxemu's CA.
function curlOf(e) {
  const host = "localhost.weixin.qq.com";
  const url = `https://${host}:${status.port}${e.path}${e.query ? "?" + e.query : ""}`;
  const parts = ["curl", "--cacert", shq(status.trust ? status.trust.ca_path : "ca.pem"),
    "--resolve", `${host}:${status.port}:127.0.0.1`, "-X", e.method];
  if (e.origin) parts.push("-H", shq(`Origin: ${e.origin}`));
  if (e.body != null) parts.push("-H", shq("Content-Type: text/plain;charset=UTF-8"),
    "--data", shq(typeof e.body === "string" ? e.body : JSON.stringify(e.body)));
  parts.push(shq(url));
  return parts.join(" ");
}

// ---- QR logins ----
let accountIds = [];
async function refreshQr() {
  const list = await invoke("qr_list");
  const rows = list.slice().reverse().map((q) => {
    const tr = document.createElement("tr");
    const left = Math.max(0, Math.round((q.expires_at - Date.now()) / 1000));
    let site = q.redirect_uri;
    try { site = new URL(q.redirect_uri).host; } catch { /* keep it */ }
    const statusText = t(q.status) + (q.account_id ? ` (${q.account_id})` : "");
    for (const v of [q.uuid.slice(0, 10) + "…", q.appid, site, statusText, q.status === "expired" ? "—" : `${left}s`]) {
      const td = document.createElement("td"); td.textContent = v; tr.append(td);
    }
    const td = document.createElement("td");
    if (q.status === "waiting" || q.status === "cancelled") {
      const who = document.createElement("select");
      accountIds.forEach(([id, label]) => who.add(new Option(label, id)));
      if (status.account) who.value = status.account.id;
      const scan = document.createElement("button"); scan.className = "primary"; scan.textContent = t("scan_as");
      scan.onclick = () => call("qr_scan", { uuid: q.uuid, account: who.value }).then(refresh);
      td.append(scan, " ", who);
    } else if (q.status === "scanned") {
      const ok = document.createElement("button"); ok.className = "primary"; ok.textContent = t("confirm");
      ok.onclick = () => call("qr_confirm", { uuid: q.uuid }).then(refresh);
      const no = document.createElement("button"); no.textContent = t("cancel");
      no.onclick = () => call("qr_cancel", { uuid: q.uuid }).then(refresh);
      td.append(ok, " ", no);
    }
    tr.append(td);
    return tr;
  });
  // Do not rebuild under an open account picker.
  if (document.activeElement && document.activeElement.closest("#qr-rows")) return;
  $("qr-rows").replaceChildren(...rows);
  $("qr-empty").hidden = rows.length > 0;
}

// ---- Web WeChat: sessions, the conversation, the phone and the friends ----
let webwxSelected = null;
let webwxContactsOf = null;
async function refreshWebwx() {
  const sessions = await invoke("webwx_sessions");
  $("webwx-empty").hidden = sessions.length > 0;
  document.querySelector(".webwx").hidden = sessions.length === 0;
  if (!sessions.some((s) => s.id === webwxSelected)) {
    const live = sessions.filter((s) => s.status === "live");
    webwxSelected = (live[live.length - 1] || sessions[sessions.length - 1] || {}).id ?? null;
  }
  $("webwx-sessions").replaceChildren(...sessions.slice().reverse().map((s) => {
    const li = document.createElement("li");
    li.dataset.id = s.id;
    li.className = (s.id === webwxSelected ? "active " : "") + s.status;
    const small = document.createElement("small");
    small.textContent = `#${s.id} · ${t(s.status)} · ${s.messages}`;
    li.append(s.nickname, small);
    li.onclick = () => { webwxSelected = s.id; refreshWebwx(); };
    return li;
  }));
  if (webwxSelected != null) await showWebwx(webwxSelected);
}
async function showWebwx(id) {
  const [session, messages] = await Promise.all([invoke("webwx_session", { id }), invoke("webwx_messages", { id })]);
  $("webwx-title").textContent = `${session.nickname} · #${session.id}`;
  $("webwx-status").textContent = t(session.status);
  $("webwx-status").className = "badge " + (session.status === "live" ? "ok" : "");
  const live = session.status === "live";
  for (const el of [$("webwx-end"), $("webwx-from"), $("webwx-text"), document.querySelector("#webwx-send button")]) el.disabled = !live;
  if (webwxContactsOf !== id) {
    webwxContactsOf = id;
    $("webwx-from").replaceChildren(...session.contacts.filter((c) => c.kind !== "official")
      .map((c) => new Option(`${c.nickname}${c.kind === "group" ? " (群 group)" : ""}`, c.user_name)));
    const friend = session.contacts.find((c) => c.kind === "friend");
    if (friend) $("webwx-from").value = friend.user_name;
  }
  const chat = $("webwx-chat");
  const atBottom = chat.scrollHeight - chat.scrollTop - chat.clientHeight < 30;
  chat.replaceChildren(...messages.map((m) => {
    const li = document.createElement("li");
    li.className = m.direction;
    li.dataset.id = m.id;
    const who = document.createElement("small");
    who.textContent = `${m.from_name}${m.member ? ` (${m.member})` : ""} → ${m.to_name} · ${new Date(m.at).toLocaleTimeString()}`;
    li.append(who, m.text);
    return li;
  }));
  if (atBottom) chat.scrollTop = chat.scrollHeight;
}
$("webwx-send").onsubmit = (e) => {
  e.preventDefault();
  const text = $("webwx-text").value;
  if (!text.trim() || webwxSelected == null) return;
  call("webwx_send", { id: webwxSelected, from: $("webwx-from").value, text })
    .then(() => { $("webwx-text").value = ""; return refreshWebwx(); });
};
$("webwx-end").onclick = () => call("webwx_end", { id: webwxSelected }).then(refreshWebwx);

// ---- H5: WeChat windows, calls waiting for the person, outcomes, pages ----
function cells(values) {
  const tr = document.createElement("tr");
  for (const v of values) { const td = document.createElement("td"); td.textContent = v; tr.append(td); }
  return tr;
}
async function refreshH5() {
  const h5 = await invoke("h5_status");
  const pending = h5.pending.map((c) => {
    const tr = cells([c.id, c.api, c.app_id, c.url]);
    const td = document.createElement("td");
    const ok = document.createElement("button"); ok.className = "primary";
    ok.textContent = c.api === "chooseWXPay" ? t("pay") : t("scan_ok");
    ok.onclick = () => call("h5_resolve", { id: c.id, result: "ok", text: c.api === "scanQRCode" ? "https://weixin.qq.com/r/wxemu-scan" : null }).then(refreshH5);
    const no = document.createElement("button"); no.textContent = t("cancel");
    no.onclick = () => call("h5_resolve", { id: c.id, result: "cancel", text: null }).then(refreshH5);
    td.append(ok, " ", no); tr.append(td);
    return tr;
  });
  $("h5-pending-rows").replaceChildren(...pending);
  $("h5-pending-empty").hidden = pending.length > 0;
  const outcomes = h5.outcomes.map((o) => cells([o.api, o.result, o.data ? JSON.stringify(o.data) : "—", o.times ?? 1]));
  $("h5-outcome-rows").replaceChildren(...outcomes);
  $("h5-outcomes-empty").hidden = outcomes.length > 0;
  const pages = h5.pages.slice().reverse().map((p) => cells([new Date(p.at).toLocaleTimeString(), p.app_id, p.url,
    p.js_api_list.join(", "), p.warnings.join("; ") || "—"]));
  $("h5-page-rows").replaceChildren(...pages);
  $("h5-pages-empty").hidden = pages.length > 0;
}
$("wechat-open").onsubmit = (e) => {
  e.preventDefault();
  call("wechat_open", { url: $("wechat-url").value }).then(() => toast(t("wechat_opened")));
};
$("h5-outcome").onsubmit = (e) => {
  e.preventDefault();
  let data = null;
  const text = $("h5-data").value.trim();
  if (text) {
    try { data = JSON.parse(text); } catch (err) { toast(`data: ${err.message}`, true); return; }
  }
  const times = Number($("h5-times").value) || 1;
  call("h5_outcome_add", { outcome: { api: $("h5-api").value, result: $("h5-result").value, data, times } })
    .then(() => { $("h5-data").value = ""; return refreshH5(); });
};
$("h5-clear").onclick = () => call("h5_outcomes_clear").then(refreshH5);
function showTab(name) {
  document.querySelectorAll("nav button").forEach((x) => x.classList.toggle("active", x.dataset.tab === name));
  document.querySelectorAll(".tab").forEach((s) => { s.hidden = s.id !== `tab-${name}`; });
  if (name === "h5") { $("wechat-url").focus(); $("wechat-url").select(); }
}

// A verdict (trusted / partly / not_trusted / unknown): only full trust is green.
function trustClass(verdict) {
  return verdict === "trusted" ? "trusted" : verdict === "partly" || verdict === "not_trusted" ? "untrusted" : "";
}

// ---- interception: asked on demand (the trust check runs the stores' tools) ----
async function refreshIntercept() {
  const info = await invoke("intercept_status");
  const ports = [info.proxy_port && `${t("proxy_port")} ${info.proxy_port}`, info.hosts_port && `${t("hosts_port")} ${info.hosts_port}`].filter(Boolean);
  $("intercept-state").textContent = info.enabled ? `${t("intercept_on")} · ${ports.join(" · ")}` : t("intercept_off");
  $("intercept-state").className = info.enabled ? "trusted" : "";
  const ca = $("intercept-ca");
  ca.textContent = `${t("intercept_ca")} ${info.ca_exists ? t(info.ca_status) : t("ca_none")}`;
  ca.className = trustClass(info.ca_status);
  $("intercept-hosts").textContent = info.hosts.join(" · ");
}
$("intercept-check").onclick = () => refreshIntercept().catch((e) => toast(String(e), true));

// ---- editors ----
const editing = { accounts: false, apps: false };
function input(value, name, type = "text") {
  const el = document.createElement("input");
  el.type = type; el.name = name;
  if (type === "checkbox") el.checked = !!value; else el.value = value ?? "";
  el.oninput = el.onchange = () => { editing[el.closest("tbody").id === "account-rows" ? "accounts" : "apps"] = true; };
  return el;
}
function row(cells, onRemove) {
  const tr = document.createElement("tr");
  for (const c of cells) { const td = document.createElement("td"); td.append(c); tr.append(td); }
  const td = document.createElement("td");
  const rm = document.createElement("button"); rm.className = "danger"; rm.textContent = t("remove");
  rm.onclick = () => { onRemove(); tr.remove(); };
  td.append(rm); tr.append(td);
  return tr;
}

let accounts = [];
function renderAccounts(list) {
  accounts = list.map((a) => ({ ...a }));
  $("account-rows").replaceChildren(...accounts.map(accountRow));
}
function accountRow(a) {
  const sex = document.createElement("select"); sex.name = "sex";
  [["0", "?"], ["1", "♂"], ["2", "♀"]].forEach(([v, l]) => sex.add(new Option(l, v)));
  sex.value = String(a.sex ?? 0);
  sex.onchange = () => { editing.accounts = true; };
  const tr = row([input(a.id, "id"), input(a.nickname, "nickname"), input(a.headimgurl, "headimgurl"), sex, input(a.city, "city")],
    () => { accounts = accounts.filter((x) => x !== a); editing.accounts = true; });
  tr.account = a;
  return tr;
}
function collectAccounts() {
  return [...$("account-rows").children].map((tr) => {
    const get = (n) => tr.querySelector(`[name=${n}]`).value;
    return { ...tr.account, id: get("id").trim(), nickname: get("nickname"), headimgurl: get("headimgurl").trim(),
      sex: Number(get("sex")), city: get("city") };
  });
}

function renderApps(list) { $("app-rows").replaceChildren(...list.map(appRow)); }
function appRow(a) {
  const kind = document.createElement("select"); kind.name = "kind";
  kind.add(new Option(t("kind_website"), "website"));
  kind.add(new Option(t("kind_official_account"), "official_account"));
  kind.value = a.kind || "website";
  kind.onchange = () => { editing.apps = true; };
  const list = (v) => (v || []).join(", ");
  const tr = row([input(a.appid, "appid"), kind, input(a.secret, "secret"), input(a.name, "name"), input(a.icon_url, "icon_url"),
    input(list(a.callback_domains), "callback_domains"), input(list(a.oauth_domains), "oauth_domains"),
    input(list(a.js_domains), "js_domains"), input(a.scan_only, "scan_only", "checkbox")],
    () => { editing.apps = true; });
  tr.app = a;
  return tr;
}
function collectApps() {
  return [...$("app-rows").children].map((tr) => {
    const get = (n) => tr.querySelector(`[name=${n}]`);
    const list = (n) => get(n).value.split(",").map((s) => s.trim()).filter(Boolean);
    return { ...tr.app, appid: get("appid").value.trim(), kind: get("kind").value, secret: get("secret").value, name: get("name").value,
      icon_url: get("icon_url").value.trim(), callback_domains: list("callback_domains"),
      oauth_domains: list("oauth_domains"), js_domains: list("js_domains"), scan_only: get("scan_only").checked };
  });
}

// ---- wiring ----
document.querySelectorAll("nav button").forEach((b) => b.addEventListener("click", () => showTab(b.dataset.tab)));
// The tray's "Open a page in WeChat…" opens this tab (at creation, or later).
if (window.__wxemuTab) showTab(window.__wxemuTab);
listen("wxemu:tab", (e) => showTab(e.payload));
$("lang").onclick = () => { lang = lang === "zh" ? "en" : "zh"; localStorage.setItem("lang", lang); translate(); refresh(); };
$("client-state").onchange = (e) => call("set_client_state", { state: e.target.value });
$("account").onchange = (e) => call("set_account", { id: e.target.value });
$("approval").onchange = (e) => call("set_approval_mode", { mode: e.target.value });
$("use-suggestion").onclick = () => call("start_server", { port: status.failure.suggestion }).then(refresh);
$("add-account").onclick = () => {
  const a = { id: `user${accounts.length + 1}`, nickname: "", headimgurl: "", sex: 0, province: "", city: "", country: "CN", language: "zh_CN" };
  accounts.push(a); $("account-rows").append(accountRow(a)); editing.accounts = true;
};
$("save-accounts").onclick = () => call("save_accounts", { accounts: collectAccounts() })
  .then(() => { editing.accounts = false; toast(t("saved")); refresh(); });
$("add-app").onclick = () => {
  $("app-rows").append(appRow({ appid: "", kind: "website", secret: "", name: "", icon_url: "", callback_domains: [],
    oauth_domains: [], js_domains: [], scan_only: false, owner: "" }));
  editing.apps = true;
};
$("save-apps").onclick = () => call("save_apps", { apps: collectApps() })
  .then(() => { editing.apps = false; toast(t("saved")); refresh(); });
$("journal-filter").oninput = renderJournal;
$("journal-endpoint").onchange = () => refreshJournal();
$("journal-clear").onclick = () => call("journal_clear").then(refreshJournal);
$("ca-trust").onclick = () => changeTrust("trust_install");
$("ca-uninstall").onclick = () => changeTrust("trust_uninstall");
$("ca-recheck").onclick = () => call("trust_status").then(refresh);
$("ca-demo").onclick = () => call("open_demo").then(() => toast(t("demo_opened")));
$("autostart").onchange = (e) => call("autostart_set", { enabled: e.target.checked }).catch(refresh);
$("copy-ca").onclick = () => navigator.clipboard.writeText($("ca-commands").textContent).then(() => toast(t("copied")));

translate();
refresh().catch((e) => toast(String(e), true));
refreshIntercept().catch(() => {});
listen("wxemu:changed", () => refresh());
// The chat view follows the bot's sessions and messages as they happen.
listen("wxemu:webwx", () => refreshWebwx().catch(() => {}));
// Pending requests come and go without a change event from here.
setInterval(() => { if (!document.hidden) refresh().catch(() => {}); }, 1000);
