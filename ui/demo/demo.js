// The built-in demo site's pages (served by wxemu under /demo/). The pages
// are static; the site's server side (in wxemu, shared with
// examples/site.rs) answers these, relative to /demo/:
//   GET  login                  -> 302 to the Open Platform login page (fresh state in the session)
//   GET  api/login-options?self_redirect=true|false
//                               -> {appid, scope, redirect_uri, state, self_redirect, wxlogin_js}
//                                  (fresh state in the session) for wxLogin.js
//   GET  callback?code&state    -> checks state, trades the code server-side, 302 to profile.html
//   GET  api/me                 -> {nickname, headimgurl, openid, unionid, city, province, country, scope} or 401
//   POST logout                 -> forgets the session, 303 to ./
"use strict";
const $ = (id) => document.getElementById(id);

async function me() {
  const response = await fetch("api/me", { credentials: "same-origin", cache: "no-store" });
  return response.ok ? response.json() : null;
}

async function home() {
  const user = await me().catch(() => null);
  if (!user) return;
  $("who").hidden = false;
  $("who").textContent = `已登录：${user.nickname} · Logged in as ${user.nickname}`;
  $("nav-profile").hidden = false;
}

async function embedded() {
  const selfRedirect = new URLSearchParams(location.search).get("self_redirect") === "true";
  const response = await fetch(`api/login-options?self_redirect=${selfRedirect}`, { credentials: "same-origin", cache: "no-store" });
  if (!response.ok) { $("ready").textContent = `login options: HTTP ${response.status}`; return; }
  const options = await response.json();
  const script = document.createElement("script");
  script.src = options.wxlogin_js;
  script.onload = () => {
    // wxLogin.js wants redirect_uri URL-encoded, like the real one.
    new window.WxLogin({
      id: "login_container", appid: options.appid, scope: options.scope,
      redirect_uri: encodeURIComponent(options.redirect_uri), state: options.state,
      self_redirect: options.self_redirect,
      onReady: (ok) => { $("ready").textContent = ok ? "wxReady" : "not ready"; },
    });
  };
  document.head.append(script);
}

async function profile() {
  const user = await me().catch(() => null);
  if (!user) { $("anonymous").hidden = false; return; }
  $("avatar").src = user.headimgurl;
  $("nickname").textContent = user.nickname;
  $("openid").textContent = user.openid;
  $("unionid").textContent = user.unionid || "—";
  $("region").textContent = [user.city, user.province, user.country].filter(Boolean).join(" ") || "—";
  $("scope").textContent = user.scope || "snsapi_login";
  for (const id of ["profile", "fields", "coupon", "logout"]) $(id).hidden = false;
}

({ home, embedded, profile })[document.body.dataset.page]?.();
