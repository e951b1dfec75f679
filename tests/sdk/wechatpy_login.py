"""wechatpy's WeChatOAuth, unmodified (no base URL changed, no request hook), through
HTTPS_PROXY: code -> token -> userinfo -> refresh -> auth, then the same code again.

Usage: python wechatpy_login.py APPID SECRET CODE
Prints one JSON object on stdout; exits non-zero on an unexpected failure.
"""
import json
import sys

from wechatpy.exceptions import WeChatOAuthException
from wechatpy.oauth import WeChatOAuth

appid, secret, code = sys.argv[1:4]
oauth = WeChatOAuth(appid, secret, "https://site.example/callback", scope="snsapi_login")
assert oauth.API_BASE_URL == "https://api.weixin.qq.com/", oauth.API_BASE_URL

token = oauth.fetch_access_token(code)
user = oauth.get_user_info()
refreshed = oauth.refresh_access_token(token["refresh_token"])
valid = oauth.check_access_token()
try:
    oauth.fetch_access_token(code)
    reused = None
except WeChatOAuthException as e:
    reused = e.errcode

print(json.dumps({
    "token": token,
    "user": user,
    "refreshed": refreshed,
    "valid": valid,
    "reused_code_errcode": reused,
}, ensure_ascii=False))
