// An unmodified "Log in with WeChat" site: its code names only the real WeChat URLs
// (the login redirect to open.weixin.qq.com, wxLogin.js from res.wx.qq.com, the token
// API on api.weixin.qq.com through node `wechat-oauth`). Nothing in it knows about
// wxemu: the browser reaches wxemu through its proxy, and this backend through a
// process-wide proxy agent (global-agent, from GLOBAL_AGENT_HTTP_PROXY) trusting the
// CAs in NODE_EXTRA_CA_CERTS, exactly as a real backend would be set up.
//
// Usage: node real_site.js PORT APPID SECRET
'use strict';
require('global-agent/bootstrap');
const http = require('node:http');
const crypto = require('node:crypto');
const OAuth = require('wechat-oauth');

const [port, appid, secret] = process.argv.slice(2);
const base = `http://127.0.0.1:${port}`;
const tokens = new Map();
const oauth = new OAuth(
  appid,
  secret,
  (openid, cb) => cb(null, tokens.get(openid)),
  (openid, token, cb) => { tokens.set(openid, token); cb(null); },
);
const states = new Set();

const escape = (s) => String(s).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
const page = (res, status, body) => {
  res.writeHead(status, { 'content-type': 'text/html; charset=utf-8' });
  res.end(`<!DOCTYPE html><html><head><meta charset="utf-8"><title>Real site</title></head><body>${body}</body></html>`);
};
const newState = () => {
  const state = crypto.randomBytes(8).toString('hex');
  states.add(state);
  return state;
};

http.createServer((req, res) => {
  const url = new URL(req.url, base);
  if (url.pathname === '/') {
    return page(res, 200, '<a href="/login">Log in with WeChat</a> <a href="/embedded">embedded</a>');
  }
  if (url.pathname === '/login') {
    const params = new URLSearchParams({
      appid,
      redirect_uri: `${base}/callback`,
      response_type: 'code',
      scope: 'snsapi_login',
      state: newState(),
    });
    res.writeHead(302, { location: `https://open.weixin.qq.com/connect/qrconnect?${params}#wechat_redirect` });
    return res.end();
  }
  if (url.pathname === '/embedded') {
    const options = {
      self_redirect: false,
      id: 'login_container',
      appid,
      scope: 'snsapi_login',
      redirect_uri: encodeURIComponent(`${base}/callback`),
      state: newState(),
    };
    return page(res, 200,
      '<div id="login_container"></div>' +
      '<script src="https://res.wx.qq.com/connect/zh_CN/htmledition/js/wxLogin.js"></script>' +
      `<script>new WxLogin(${JSON.stringify(options)});</script>`);
  }
  if (url.pathname === '/callback') {
    const code = url.searchParams.get('code');
    const state = url.searchParams.get('state');
    if (!code || !states.delete(state)) return page(res, 400, '<p id="error">bad state</p>');
    return oauth.getAccessToken(code, (err, token) => {
      if (err) return page(res, 502, `<p id="error">token: ${escape(err.message)}</p>`);
      oauth.getUser({ openid: token.data.openid, lang: 'zh_CN' }, (err2, user) => {
        if (err2) return page(res, 502, `<p id="error">userinfo: ${escape(err2.message)}</p>`);
        page(res, 200, `<p id="me">Logged in as <b id="nickname">${escape(user.nickname)}</b> (<span id="openid">${escape(user.openid)}</span>)</p>`);
      });
    });
  }
  page(res, 404, 'not found');
}).listen(Number(port), '127.0.0.1');
