"""wechatpy's WeChatClient, unmodified, through HTTPS_PROXY: the JS-SDK's config
for a page, as an Official Account's backend signs it (cgi-bin/token, then
ticket/getticket, then the documented SHA-1).

Usage: python wechatpy_jsapi_sign.py APPID SECRET URL
Prints {"appId","timestamp","nonceStr","signature"} on stdout.
"""
import json
import sys
import time

from wechatpy import WeChatClient
from wechatpy.utils import random_string

appid, secret, url = sys.argv[1:4]
client = WeChatClient(appid, secret)
assert client.API_BASE_URL == "https://api.weixin.qq.com/cgi-bin/", client.API_BASE_URL
ticket = client.jsapi.get_jsapi_ticket()
nonce = random_string(16)
timestamp = int(time.time())
signature = client.jsapi.get_jsapi_signature(nonce, ticket, timestamp, url)
print(json.dumps({"appId": appid, "timestamp": timestamp, "nonceStr": nonce, "signature": signature}))
