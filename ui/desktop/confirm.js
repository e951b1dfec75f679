// The confirm window: renders the request the app sends, reports when it is
// on screen, and answers Allow/Deny. Enter = Allow, Esc or close = Deny.
"use strict";
const { invoke } = window.__TAURI__.core;
const { listen } = window.__TAURI__.event;

let current = null;
let ticker = null;
const $ = (id) => document.getElementById(id);

// A coloured tile with the app's first letter, for apps without an icon
// (or an icon that cannot load offline).
function letterTile(name) {
  const letter = (name || "?").trim().charAt(0).toUpperCase() || "?";
  const hue = [...(name || "?")].reduce((h, c) => (h * 31 + c.codePointAt(0)) % 360, 7);
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="88" height="88"><rect width="88" height="88" fill="hsl(${hue},55%,50%)"/><text x="44" y="59" font-size="44" font-family="sans-serif" font-weight="600" fill="#fff" text-anchor="middle">${letter.replace(/[<&>]/g, "")}</text></svg>`;
  return "data:image/svg+xml;charset=utf-8," + encodeURIComponent(svg);
}

function tick() {
  if (!current) return;
  const left = Math.max(0, Math.ceil((current.deadline_ms - Date.now()) / 1000));
  $("countdown").textContent = `${left} 秒后自动取消 · expires in ${left}s`;
}

function render(view) {
  if (!view) return;
  current = view;
  $("app-name").textContent = view.app_name;
  const icon = $("app-icon");
  icon.onerror = () => { icon.onerror = null; icon.src = letterTile(view.app_name); };
  icon.src = view.app_icon_url || letterTile(view.app_name);
  $("site").textContent = view.site;
  $("site-row").title = view.redirect_uri;
  $("nickname").textContent = view.nickname;
  const avatar = $("avatar");
  avatar.onerror = () => { avatar.onerror = null; avatar.src = letterTile(view.nickname); };
  avatar.src = view.avatar;
  $("queued").textContent = view.queued > 0 ? `· 还有 ${view.queued} 个 · ${view.queued} more` : "";
  $("main").hidden = false;
  tick();
  clearInterval(ticker);
  ticker = setInterval(tick, 250);
  $("allow").focus();
  // The DOM holds the new request now; the app shows the window, and its
  // first frame is this content. (No requestAnimationFrame: a hidden
  // webview gets no frames.)
  invoke("confirm_rendered", { id: view.id })
    .then(() => {
      // Shown now; two frames later the content is on screen.
      requestAnimationFrame(() => requestAnimationFrame(() => {
        if (current && current.id === view.id) invoke("confirm_painted", { id: view.id }).catch(console.error);
      }));
    })
    .catch(console.error);
}

function decide(decision) {
  if (!current) return;
  const id = current.id;
  current = null;
  clearInterval(ticker);
  invoke("confirm_decide", { id, decision }).catch(console.error);
}

$("allow").addEventListener("click", () => decide("allow"));
$("deny").addEventListener("click", () => decide("deny"));
$("close").addEventListener("click", () => decide("deny"));
document.addEventListener("keydown", (e) => {
  if (e.key === "Enter") { e.preventDefault(); decide("allow"); }
  else if (e.key === "Escape") { e.preventDefault(); decide("deny"); }
});

listen("confirm:request", (e) => render(e.payload));
invoke("confirm_current").then(render).catch(console.error);
