/*
 * The WeChat in-app browser's own parts, drawn over any page the desktop
 * app's WeChat window opens (injected after wxemu's bridge, before the
 * page's scripts): the title bar (close, the page's title, "..."), the
 * "..." menu (Send to chat / Share to Moments, played through the bridge's
 * window.__wxemu.share), a card with what would be shared, and the pay and
 * scan sheets the person answers.
 *
 * Everything lives in a closed shadow root, styled by a constructed
 * stylesheet, so the page's CSS (and CSP) neither breaks it nor sees it.
 * The page has no IPC: the window's Rust side shows sheets with
 * window.__wxemuChrome.ask(call) and hears the person's answer (and the
 * close button) as a navigation to wxemu-desktop://..., which it cancels.
 */
(function () {
  "use strict";
  if (window.top !== window || window.__wxemuChrome) return;
  var BAR = 44;
  var CSS = [
    ":host{all:initial}",
    "*{box-sizing:border-box;font-family:-apple-system,'PingFang SC','Noto Sans CJK SC','Noto Sans',sans-serif}",
    ".bar{position:fixed;left:0;top:0;right:0;height:44px;background:#ededed;border-bottom:1px solid #d9d9d9;display:flex;align-items:center;z-index:2147483646;color:#111}",
    ".bar button{width:44px;height:44px;border:0;background:none;font-size:20px;color:#111;cursor:pointer;padding:0}",
    ".title{flex:1;text-align:center;font-size:16px;font-weight:600;white-space:nowrap;overflow:hidden;text-overflow:ellipsis}",
    ".dim{position:fixed;inset:0;background:rgba(0,0,0,.45);z-index:2147483646;display:none}",
    ".sheet{position:fixed;left:0;right:0;bottom:0;background:#f7f7f7;border-radius:12px 12px 0 0;z-index:2147483647;display:none;color:#111}",
    ".menu{height:200px}",
    ".menu .hint{height:40px;line-height:40px;text-align:center;font-size:12px;color:#888}",
    ".tiles{position:relative;height:100px}",
    ".tile{position:absolute;top:0;width:72px;height:100px;border:0;background:none;padding:0;cursor:pointer}",
    ".tile i{display:flex;align-items:center;justify-content:center;width:56px;height:56px;margin:0 auto 6px;border-radius:12px;background:#fff}",
    ".tile span{display:block;font-size:11px;color:#333;text-align:center}",
    ".cancel{position:absolute;left:0;right:0;bottom:0;height:50px;border:0;border-top:8px solid #ededed;background:#fff;font-size:16px;color:#111;cursor:pointer}",
    ".card{position:fixed;left:24px;right:24px;top:120px;background:#fff;border-radius:10px;padding:18px;z-index:2147483647;display:none;box-shadow:0 8px 30px rgba(0,0,0,.25)}",
    ".card h3{margin:0 0 10px;font-size:15px;color:#07c160}",
    ".card p{margin:4px 0;font-size:13px;word-break:break-all;color:#333}",
    ".card b{color:#111}",
    ".card button{margin-top:14px;width:100%;height:40px;border:0;border-radius:6px;background:#07c160;color:#fff;font-size:15px;cursor:pointer}",
    ".pay{height:320px;background:#fff}",
    ".head{height:50px;line-height:50px;text-align:center;font-size:16px;border-bottom:1px solid #eee}",
    ".pay .amount{text-align:center;font-size:13px;color:#555;padding:18px 20px 6px;word-break:break-all}",
    ".pay .who{text-align:center;font-size:12px;color:#999;padding:0 20px}",
    ".primary{position:absolute;left:24px;right:24px;height:44px;border:0;border-radius:6px;background:#07c160;color:#fff;font-size:16px;cursor:pointer}",
    ".pay .primary{bottom:66px}",
    ".textbtn{position:absolute;left:24px;right:24px;bottom:10px;height:44px;border:0;background:none;color:#576b95;font-size:16px;cursor:pointer}",
    ".scan{height:320px;background:#fff}",
    ".scan input{display:block;margin:10px 20px;width:calc(100% - 40px);height:40px;border:1px solid #ddd;border-radius:6px;padding:0 10px;font-size:14px}",
    ".scan .primary{bottom:66px}",
    // Last, so it wins over each part's display:none.
    ".show{display:block}"
  ].join("\n");

  var host, root, title, dim, menu, card, pay, scan, asking = null;

  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined) e.textContent = text;
    return e;
  }
  // Icons drawn with SVG elements (no emoji font needed, no innerHTML).
  var ICONS = {
    appmessage: [["circle", { cx: 12, cy: 8, r: 4, fill: "#07c160" }],
      ["path", { d: "M4 21c0-4.4 3.6-7 8-7s8 2.6 8 7z", fill: "#07c160" }]],
    timeline: [["circle", { cx: 12, cy: 12, r: 8.5, fill: "none", stroke: "#fa9d3b", "stroke-width": 3, "stroke-dasharray": "8 5" }],
      ["circle", { cx: 12, cy: 12, r: 3.5, fill: "#10aeff" }]]
  };
  function icon(name) {
    var NS = "http://www.w3.org/2000/svg";
    var svg = document.createElementNS(NS, "svg");
    svg.setAttribute("viewBox", "0 0 24 24");
    svg.setAttribute("width", "30");
    svg.setAttribute("height", "30");
    ICONS[name].forEach(function (part) {
      var e = document.createElementNS(NS, part[0]);
      Object.keys(part[1]).forEach(function (k) { e.setAttribute(k, String(part[1][k])); });
      svg.appendChild(e);
    });
    return svg;
  }
  function tell(path, params) {
    // The Rust side cancels this navigation and acts on it.
    var q = Object.keys(params || {}).map(function (k) { return k + "=" + encodeURIComponent(params[k]); }).join("&");
    window.location.href = "wxemu-desktop://" + path + (q ? "?" + q : "");
  }
  function hideAll() {
    [dim, menu, card, pay, scan].forEach(function (e) { e.classList.remove("show"); });
  }
  function open(sheet) {
    hideAll();
    dim.classList.add("show");
    sheet.classList.add("show");
  }

  function build() {
    host = document.createElement("wxemu-wechat-chrome");
    root = host.attachShadow({ mode: "closed" });
    try {
      var sheet = new CSSStyleSheet();
      sheet.replaceSync(CSS);
      root.adoptedStyleSheets = [sheet];
    } catch (e) {
      root.appendChild(el("style", null, CSS));
    }
    var bar = el("div", "bar");
    var close = el("button", null, "✕");
    close.setAttribute("aria-label", "关闭 Close");
    close.addEventListener("click", function () { tell("close"); });
    title = el("div", "title", document.title || "");
    var more = el("button", null, "···");
    more.setAttribute("aria-label", "更多 More");
    more.addEventListener("click", function () { open(menu); });
    bar.append(close, title, more);

    dim = el("div", "dim");
    dim.addEventListener("click", function () { if (!asking) hideAll(); });

    menu = el("div", "sheet menu");
    menu.appendChild(el("div", "hint", "网页由 " + location.host + " 提供"));
    var tiles = el("div", "tiles");
    [["appmessage", "发送给朋友", 20], ["timeline", "分享到朋友圈", 108]].forEach(function (t) {
      var b = el("button", "tile");
      b.style.left = t[2] + "px";
      b.setAttribute("aria-label", t[1]);
      var i = el("i");
      i.appendChild(icon(t[0]));
      b.append(i, el("span", null, t[1]));
      b.addEventListener("click", function () {
        hideAll();
        var shared = window.__wxemu && window.__wxemu.share(t[0]);
        if (!shared) showCard("没有可分享的内容 Nothing to share", {
          note: "The page set no share data and no handler for this item (or wx.config has not passed)."
        });
      });
      tiles.appendChild(b);
    });
    var cancel = el("button", "cancel", "取消 Cancel");
    cancel.addEventListener("click", hideAll);
    menu.append(tiles, cancel);

    card = el("div", "card");

    pay = el("div", "sheet pay");
    scan = el("div", "sheet scan");

    root.append(bar, dim, menu, card, pay, scan);
    (document.documentElement || document).appendChild(host);
    // The page starts below the bar, as in WeChat.
    try {
      var shift = new CSSStyleSheet();
      shift.replaceSync("html{margin-top:" + BAR + "px !important}");
      document.adoptedStyleSheets = document.adoptedStyleSheets.concat([shift]);
    } catch (e) { /* the bar then covers the page's top */ }
    syncTitle();
  }

  function showCard(heading, data) {
    card.textContent = "";
    card.appendChild(el("h3", null, heading));
    Object.keys(data).forEach(function (k) {
      var v = data[k];
      if (v === undefined || v === null || typeof v === "function") return;
      var p = el("p");
      p.append(el("b", null, k + ": "), document.createTextNode(typeof v === "object" ? JSON.stringify(v) : String(v)));
      card.appendChild(p);
    });
    var done = el("button", null, "完成 Done");
    done.addEventListener("click", hideAll);
    card.appendChild(done);
    hideAll();
    dim.classList.add("show");
    card.classList.add("show");
  }

  function syncTitle() {
    if (title) title.textContent = document.title || location.host;
  }

  // What the page shares (its handler's data, or update*ShareData's).
  window.addEventListener("wxemu:share", function (e) {
    var d = e.detail || {};
    var where = /Timeline/.test(d.api) ? "分享到朋友圈 Shared to Moments" : "发送给朋友 Sent to a chat";
    var data = d.data || {};
    showCard(where, { title: data.title, desc: data.desc, link: data.link, imgUrl: data.imgUrl || data.img_url, api: d.api });
  });

  function ask(call) {
    asking = call;
    var args = call.args || {};
    if (call.api === "chooseWXPay") {
      pay.textContent = "";
      pay.appendChild(el("div", "head", "微信支付 WeChat Pay"));
      pay.appendChild(el("div", "amount", "package: " + String(args.package || "—")));
      pay.appendChild(el("div", "who", (call.app_id || "") + " · " + location.host));
      var ok = el("button", "primary", "确认支付 Pay");
      ok.addEventListener("click", function () { decide("ok"); });
      var no = el("button", "textbtn", "取消 Cancel");
      no.addEventListener("click", function () { decide("cancel"); });
      pay.append(ok, no);
      open(pay);
    } else {
      scan.textContent = "";
      scan.appendChild(el("div", "head", "扫一扫 Scan"));
      scan.appendChild(el("div", "who", "扫到的内容 What the camera reads"));
      var input = el("input");
      input.value = "https://weixin.qq.com/r/wxemu-scan";
      var ok2 = el("button", "primary", "确定 OK");
      ok2.addEventListener("click", function () { decide("ok", input.value); });
      var no2 = el("button", "textbtn", "取消 Cancel");
      no2.addEventListener("click", function () { decide("cancel"); });
      scan.append(input, ok2, no2);
      open(scan);
    }
  }
  function decide(result, text) {
    if (!asking) return;
    var params = { id: asking.id, result: result };
    if (text !== undefined) params.text = text;
    asking = null;
    hideAll();
    tell("decide", params);
  }
  function done(id) {
    if (asking && asking.id === id) { asking = null; hideAll(); }
  }

  window.__wxemuChrome = { ask: ask, done: done };
  function start() {
    build();
    var t = document.querySelector("title");
    new MutationObserver(syncTitle).observe(document.head || document.documentElement, { subtree: true, childList: true, characterData: true });
    if (t) syncTitle();
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
}());
