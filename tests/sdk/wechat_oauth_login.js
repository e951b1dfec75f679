// node `wechat-oauth`, unmodified (it has no base-URL option at all), through a
// process-wide proxy agent as a Node backend would use one (global-agent, configured
// from GLOBAL_AGENT_HTTP_PROXY): code -> token -> userinfo -> refresh -> auth.
//
// Usage: node wechat_oauth_login.js APPID SECRET CODE
// Prints one JSON object on stdout; exits non-zero on an unexpected failure.
'use strict';
require('global-agent/bootstrap');
const OAuth = require('wechat-oauth');

const [appid, secret, code] = process.argv.slice(2);
const tokens = new Map();
const client = new OAuth(
  appid,
  secret,
  (openid, callback) => callback(null, tokens.get(openid)),
  (openid, token, callback) => {
    tokens.set(openid, token);
    callback(null);
  },
);
const call = (fn, ...args) =>
  new Promise((resolve, reject) =>
    fn.call(client, ...args, (err, result) => (err ? reject(err) : resolve(result))));

(async () => {
  const token = await call(client.getAccessToken, code);
  const openid = token.data.openid;
  const user = await call(client.getUser, { openid, lang: 'zh_CN' });
  const refreshed = await call(client.refreshAccessToken, token.data.refresh_token);
  const valid = await call(client.verifyToken, openid, refreshed.data.access_token);
  let reused = null;
  try {
    await call(client.getAccessToken, code);
  } catch (e) {
    reused = e.code;
  }
  console.log(JSON.stringify({ token: token.data, user, refreshed: refreshed.data, valid, reused_code_errcode: reused }));
})().catch((e) => {
  console.error(`wechat-oauth failed: ${e.name} ${e.code || ''} ${e.message}`);
  process.exit(1);
});
