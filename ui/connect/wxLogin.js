/*
 * wxemu's stand-in for https://res.wx.qq.com/connect/zh_CN/htmledition/js/wxLogin.js:
 *   new WxLogin({id, appid, scope, redirect_uri, state, style, href,
 *                self_redirect, fast_login, color_scheme, stylelite, lang,
 *                onReady, onQRcodeReady})
 * replaces the container's content with a 300x400 iframe showing wxemu's
 * login page. The caller URL-encodes redirect_uri (as with the real script).
 * The page's origin is where this script was loaded from, so it works on
 * whichever port wxemu runs; loaded from res.wx.qq.com (interception) it is
 * https://open.weixin.qq.com.
 */
(function (window, document) {
  "use strict";

  var script = document.currentScript;
  var base = "https://localhost.weixin.qq.com:14013";
  try {
    if (script && script.src) base = new URL(script.src).origin;
  } catch (e) { /* keep the default port */ }
  // Served as the real res.wx.qq.com (interception), frame the real login page's
  // origin, as the real script does: the frame's fast login then carries
  // Origin https://open.weixin.qq.com, the one the desktop client accepts.
  if (base === "https://res.wx.qq.com") base = "https://open.weixin.qq.com";

  function param(name, value) {
    return value === undefined || value === null || value === "" ? "" : "&" + name + "=" + value;
  }

  window.WxLogin = function (opts) {
    opts = opts || {};
    var selfRedirect = opts.self_redirect === true ? "true" : opts.self_redirect === false ? "false" : "default";
    var src = base + "/connect/qrconnect?appid=" + (opts.appid || "") +
      "&scope=" + (opts.scope || "snsapi_login") +
      "&redirect_uri=" + (opts.redirect_uri || "") +
      "&state=" + (opts.state || "") +
      "&login_type=jssdk" +
      "&self_redirect=" + selfRedirect +
      param("style", opts.style) +
      param("href", opts.href ? encodeURIComponent(opts.href) : "") +
      (opts.fast_login === 0 || opts.fast_login === false ? "&fast_login=0" : "") +
      param("color_scheme", opts.color_scheme) +
      (opts.stylelite === 1 || opts.stylelite === true ? "&stylelite=1" : "") +
      (opts.lang === "en" ? "&lang=en" : "");

    var frame = document.createElement("iframe");
    frame.src = src;
    frame.frameBorder = "0";
    frame.allowTransparency = "true";
    frame.setAttribute("allowtransparency", "true");
    frame.scrolling = "no";
    frame.width = "300px";
    frame.height = "400px";
    // Chrome 142+ asks before a cross-origin frame may reach loopback.
    frame.setAttribute("allow", "local-network-access");

    var container = document.getElementById(opts.id);
    if (!container) throw new Error("WxLogin: no element with id " + JSON.stringify(opts.id));
    container.innerHTML = "";

    // The page posts {"type":"status","status":"wxReady"|"wxQRcodeReady"}
    // as a JSON string; only messages from our own frame count.
    var ready = false;
    window.addEventListener("message", function (event) {
      if (event.source !== frame.contentWindow || event.origin !== base) return;
      var message;
      try { message = typeof event.data === "string" ? JSON.parse(event.data) : event.data; } catch (e) { return; }
      if (!message || message.type !== "status") return;
      if (message.status === "wxReady" && !ready) {
        ready = true;
        if (typeof opts.onReady === "function") opts.onReady(true);
      } else if (message.status === "wxQRcodeReady" && typeof opts.onQRcodeReady === "function") {
        opts.onQRcodeReady();
      }
    });
    // A frame that loads without ever saying wxReady (an error page, a
    // blocked load) is reported as not ready.
    frame.addEventListener("load", function () {
      setTimeout(function () {
        if (!ready && typeof opts.onReady === "function") {
          ready = true;
          opts.onReady(false);
        }
      }, 3000);
    });
    container.appendChild(frame);
  };
})(window, document);
