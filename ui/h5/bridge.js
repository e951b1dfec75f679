/*
 * wxemu's WeChat bridge: run it before a page's own scripts, and the real
 * jweixin (wx.config, share, pay, scan...) works in any browser, answered
 * by wxemu instead of WeChat's client.
 *
 * It makes navigator.userAgent WeChat's, defines window.WeixinJSBridge
 * (invoke, on, call, log) and fires WeixinJSBridgeReady. wx.config's check
 * (preVerifyJSAPI) is asked of wxemu, which verifies the signature, the
 * appid and the page's domain exactly as WeChat's client does, and says
 * why when it fails. Every other JS API is answered in WeChat's native
 * err_msg form, from the outcome queued with POST /__wxemu/h5/outcomes
 * (default: ok with plausible data).
 *
 * window.__wxemu.share("timeline" | "appmessage" | "qq" | "weibo" | "qzone")
 * plays the person choosing that item in the "..." menu.
 *
 * Served by wxemu at /h5/bridge.js[?os=ios|android]; the line below is its
 * configuration (wxemu's URL, the platform, the User-Agent suffix).
 */
(function () {
  "use strict";
  var CONFIG = /*WXEMU_CONFIG*/;
  if (window.WeixinJSBridge && window.WeixinJSBridge.__wxemu) return;

  // ---- WeChat's User-Agent, before any script reads it ------------------
  // The whole string: jweixin tells iOS from Android by it.
  if (!/MicroMessenger\//.test(navigator.userAgent)) {
    var ua = CONFIG.ua;
    try {
      Object.defineProperty(Navigator.prototype, "userAgent", { get: function () { return ua; }, configurable: true });
    } catch (e) {
      try { Object.defineProperty(navigator, "userAgent", { get: function () { return ua; }, configurable: true }); } catch (e2) { /* leave it */ }
    }
  }

  // ---- the page, as the client sees it --------------------------------
  // WeChat for iOS verifies a single-page app against the URL it opened.
  var landingUrl = location.href.split("#")[0];
  var verified = null; // { appId, jsApiList, openTagList }
  var handlers = {};   // event name -> callback (WeixinJSBridge.on)
  var shareData = {};  // what update*ShareData set

  // Native names jweixin invokes, to the JS API names pages list in
  // jsApiList (the rest are the same name).
  var JS_NAME = {
    getBrandWCPayRequest: "chooseWXPay",
    geoLocation: "getLocation",
    imagePreview: "previewImage",
    shareTimeline: "onMenuShareTimeline",
    sendAppMessage: "onMenuShareAppMessage",
    shareQQ: "onMenuShareQQ",
    shareWeiboApp: "onMenuShareWeibo",
    shareQZone: "onMenuShareQZone"
  };
  // A share is allowed by its menu event in jsApiList (jweixin lists
  // onMenuShareTimeline as menu:share:timeline).
  var MENU_EVENT = {
    shareTimeline: "menu:share:timeline",
    sendAppMessage: "menu:share:appmessage",
    shareQQ: "menu:share:qq",
    shareWeiboApp: "menu:share:weiboApp",
    shareQZone: "menu:share:QZone"
  };
  // What the bridge knows; anything else is system:function_not_exist.
  var KNOWN = [
    "checkJsApi", "updateAppMessageShareData", "updateTimelineShareData",
    "sendAppMessage", "shareTimeline", "shareQQ", "shareWeiboApp", "shareQZone",
    "getBrandWCPayRequest", "scanQRCode", "chooseImage", "imagePreview",
    "geoLocation", "getNetworkType", "closeWindow", "hideOptionMenu",
    "showOptionMenu", "hideMenuItems", "showMenuItems",
    "hideAllNonBaseMenuItem", "showAllNonBaseMenuItem"
  ];
  // Answered without asking anyone: they change nothing wxemu records.
  var LOCAL = ["closeWindow", "hideOptionMenu", "showOptionMenu", "hideMenuItems",
    "showMenuItems", "hideAllNonBaseMenuItem", "showAllNonBaseMenuItem"];
  // The native err_msg prefix (jweixin reads only what follows the colon).
  var NATIVE_PREFIX = { getBrandWCPayRequest: "get_brand_wcpay_request", geoLocation: "geo_location" };
  function prefix(name) {
    return NATIVE_PREFIX[name] || name.replace(/([a-z0-9])([A-Z])/g, "$1_$2").toLowerCase();
  }
  function has(list, item) { return list.indexOf(item) !== -1; }
  // Tells whoever shows the "..." menu (the desktop's WeChat window) what
  // was shared: a "wxemu:share" event on window, detail { api, data }.
  function announceShare(api, data) {
    try { window.dispatchEvent(new CustomEvent("wxemu:share", { detail: { api: api, data: data || {} } })); } catch (e) { /* old engines */ }
  }

  function post(path, body) {
    // text/plain: a simple request, no preflight; wxemu reads the JSON.
    return fetch(CONFIG.base + path, { method: "POST", body: JSON.stringify(body) })
      .then(function (r) { return r.json(); });
  }
  function answer(cb, res) {
    if (typeof cb === "function") setTimeout(function () { cb(res); }, 0);
  }

  function preVerify(args, cb) {
    var current = location.href.split("#")[0];
    var request = {
      appId: args.appId || args.verifyAppId,
      url: CONFIG.os === "ios" ? landingUrl : current,
      href: location.href,
      landing_url: landingUrl,
      timestamp: args.verifyTimestamp,
      nonceStr: args.verifyNonceStr,
      signature: args.verifySignature,
      jsApiList: args.verifyJsApiList || [],
      openTagList: args.verifyOpenTagList || []
    };
    post(CONFIG.verify_url, request).then(function (res) {
      if (res.err_msg === "pre_verify_jsapi:ok") {
        verified = { appId: request.appId, jsApiList: request.jsApiList, openTagList: request.openTagList };
        if (res.warnings && res.warnings.length) console.warn("wxemu: wx.config passed, but real WeChat would refuse it:\n  " + res.warnings.join("\n  "));
      } else if (res.wxemu) {
        var w = res.wxemu;
        console.error("wxemu: wx.config failed: " + w.error + "\n  why: " + w.reason +
          (w.expected_string ? "\n  string to sign: " + w.expected_string : "") +
          (w.expected_signature ? "\n  its sha1: " + w.expected_signature : "") +
          "\n  the page sent: " + w.sent_signature +
          (w.cause ? "\n  likely cause: " + w.cause : ""));
      }
      answer(cb, { err_msg: res.err_msg || "pre_verify_jsapi:fail_" + (res.errmsg || "system error") });
    }, function (e) {
      answer(cb, { err_msg: "pre_verify_jsapi:fail_wxemu is not reachable at " + CONFIG.base + " (" + e + ")" });
    });
  }

  function invoke(name, args, cb) {
    args = args || {};
    if (name === "preVerifyJSAPI") return preVerify(args, cb);
    if (!has(KNOWN, name)) return answer(cb, { err_msg: "system:function_not_exist" });
    var jsName = JS_NAME[name] || name;
    // jweixin sends jsApiList in native names (chooseWXPay as
    // getBrandWCPayRequest); a page calling the bridge itself may use either.
    var list = verified ? verified.jsApiList : [];
    var allowed = verified && (name === "checkJsApi" || has(list, name) || has(list, jsName) || has(list, MENU_EVENT[name]));
    if (!allowed) return answer(cb, { err_msg: prefix(name) + ":the permission value is offline verifying" });
    var android = CONFIG.os === "android";
    if (name === "checkJsApi") {
      var result = {};
      (args.jsApiList || []).forEach(function (api) {
        result[api] = has(KNOWN, api) || has(KNOWN, JS_NAME[api] || "") || Object.keys(MENU_EVENT).some(function (k) { return MENU_EVENT[k] === api; });
      });
      // WeChat for Android answers it as a JSON string (jweixin parses it).
      return answer(cb, { err_msg: "check_js_api:ok", checkResult: android ? JSON.stringify(result) : result });
    }
    if (name === "updateAppMessageShareData") shareData.appmessage = args;
    if (name === "updateTimelineShareData") shareData.timeline = args;
    if (has(LOCAL, name)) return answer(cb, { err_msg: prefix(name) + ":ok" });
    if (MENU_EVENT[name]) announceShare(jsName, args);
    post(CONFIG.call_url, { appId: verified.appId, url: location.href, api: jsName, native: name, os: CONFIG.os, args: args })
      .then(function (res) {
        var data = res.data || {};
        var out = {};
        Object.keys(data).forEach(function (k) { if (k !== "reason") out[k] = data[k]; });
        // The native shapes jweixin unpacks: iOS wraps a scan result in
        // JSON, Android sends image ids as a JSON string.
        if (name === "scanQRCode" && !android && typeof out.resultStr === "string") {
          out.resultStr = JSON.stringify({ scan_code: { scan_type: "qrcode", scan_result: out.resultStr } });
        }
        if (name === "chooseImage" && android && Array.isArray(out.localIds)) {
          out.localIds = JSON.stringify(out.localIds);
        }
        if (name === "getNetworkType" && res.result === "ok") {
          out.err_msg = "network_type:" + (data.networkType || "wifi");
        } else if (res.result === "ok" || res.result === "cancel") {
          out.err_msg = prefix(name) + ":" + res.result;
        } else if (res.result === "fail") {
          out.err_msg = prefix(name) + ":fail" + (data.reason ? "_" + data.reason : "");
        } else {
          out.err_msg = prefix(name) + ":fail_" + (res.errmsg || "system error");
        }
        answer(cb, out);
      }, function () { answer(cb, { err_msg: prefix(name) + ":fail_wxemu is not reachable" }); });
  }

  // The person picks an item of the "..." menu: the page's handler for it
  // runs (jweixin then invokes the share with its data), or, for pages
  // that only set update*ShareData, that data is shared.
  var MENU = { timeline: "menu:share:timeline", appmessage: "menu:share:appmessage", qq: "menu:share:qq", weibo: "menu:share:weiboApp", qzone: "menu:share:QZone" };
  function share(target) {
    var event = MENU[target] || MENU.appmessage;
    if (typeof handlers[event] === "function") { handlers[event]({}); return true; }
    var data = target === "timeline" ? shareData.timeline : shareData.appmessage;
    if (!data || !verified) return false;
    announceShare(target === "timeline" ? "updateTimelineShareData" : "updateAppMessageShareData", data);
    post(CONFIG.call_url, { appId: verified.appId, url: location.href, api: target === "timeline" ? "onMenuShareTimeline" : "onMenuShareAppMessage", native: "menu", os: CONFIG.os, args: data });
    return true;
  }

  var bridge = {
    __wxemu: true,
    invoke: invoke,
    call: function (name, args, cb) { invoke(name, args, cb); },
    on: function (event, cb) { handlers[event] = cb; },
    log: function (message) { console.log("WeixinJSBridge.log: " + message); }
  };
  try {
    Object.defineProperty(window, "WeixinJSBridge", { value: bridge, configurable: true, writable: true });
  } catch (e) { window.WeixinJSBridge = bridge; }
  window.__wxemu = {
    share: share,
    verified: function () { return verified; },
    config: CONFIG
  };
  function ready() {
    var event;
    try { event = new Event("WeixinJSBridgeReady"); } catch (e) { event = document.createEvent("Event"); event.initEvent("WeixinJSBridgeReady", true, true); }
    document.dispatchEvent(event);
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", ready);
  else setTimeout(ready, 0);
}());
