// node `wechat-api`, unmodified, through a process-wide proxy agent
// (global-agent, from GLOBAL_AGENT_HTTP_PROXY): the JS-SDK's config for a page
// from getJsConfig (cgi-bin/token, ticket/getticket, the SHA-1).
//
// Usage: node wechat_api_js_config.js APPID SECRET URL
// Prints {"appId","timestamp","nonceStr","signature"} on stdout.
'use strict';
require('global-agent/bootstrap');
const WechatAPI = require('wechat-api');

const [appid, secret, url] = process.argv.slice(2);
const api = new WechatAPI(appid, secret);
api.getJsConfig({ debug: false, jsApiList: [], url }, (err, config) => {
  if (err) {
    console.error(`wechat-api failed: ${err.name} ${err.code || ''} ${err.message}`);
    process.exit(1);
  }
  const { appId, timestamp, nonceStr, signature } = config;
  console.log(JSON.stringify({ appId, timestamp, nonceStr, signature }));
});
