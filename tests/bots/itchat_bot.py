"""A Web WeChat bot written with itchat-uos, the way its users write one,
run by tests/bots/bots.test.js against wxemu.

wxemu is reached through itchat's own base-URL knob, `itchat.config.BASE_URL`,
and nothing else: every later URL (webwxinit, synccheck, ...) is derived by
itchat from the login poll's redirect_uri, which wxemu puts on this origin.
The origin must not be a *.qq.com name: itchat sends synccheck to
webpush.wx.qq.com for any redirect host containing "qq.com" (see
docs/webwx.md), so the test uses https://127.0.0.1:<port>. The CA comes from
REQUESTS_CA_BUNDLE (requests reads it).

Without WXEMU_URL the bot is unmodified: itchat's default
https://login.weixin.qq.com, reached through HTTPS_PROXY = wxemu's
interception proxy (docs/interception.md).

Protocol with the test: one JSON object per stdout line ("event": uuid,
login, contacts, sent, received, answered, logout, error). The test scans and
confirms the QR code through wxemu's control API when it sees "uuid", and
injects "ping <nonce>" as a friend once it sees "sent"; the bot answers
"pong <nonce>" to the sender, then logs out.
"""

import json
import os
import sys
import threading

import itchat
from itchat import config
from itchat.content import TEXT

# Unset: the bot runs unmodified against the real hosts, which wxemu plays
# through its interception proxy (HTTPS_PROXY; see bots.test.js).
if os.environ.get("WXEMU_URL"):
    config.BASE_URL = os.environ["WXEMU_URL"]

_lock = threading.Lock()
_uuid_reported = False
_exited = threading.Event()


def emit(event, **fields):
    with _lock:
        sys.stdout.write(json.dumps(dict(event=event, **fields), ensure_ascii=False) + "\n")
        sys.stdout.flush()


def on_qr(uuid, status, qrcode):
    # itchat calls this once with the QR image, then after every poll.
    global _uuid_reported
    if not _uuid_reported:
        _uuid_reported = True
        emit("uuid", uuid=uuid, qr_png_bytes=len(qrcode))


def on_login():
    emit("login", username=itchat.originInstance.storageClass.userName,
         nickname=itchat.originInstance.storageClass.nickName)


def on_exit():
    # Called by itchat's receiving thread once synccheck stopped (1101).
    _exited.set()


@itchat.msg_register(TEXT)
def on_text(msg):
    text = msg["Text"]
    emit("received", from_user=msg["FromUserName"], to_user=msg["ToUserName"], text=text,
         sender_nickname=msg["User"].get("NickName", ""))
    if not text.startswith("ping "):
        return None
    answer = "pong " + text[len("ping "):]
    result = itchat.send(answer, toUserName=msg["FromUserName"])
    emit("answered", to_user=msg["FromUserName"], text=answer,
         ret=result["BaseResponse"]["Ret"], msg_id=result.get("MsgID"))
    itchat.logout()
    return None


def main():
    itchat.auto_login(hotReload=False, qrCallback=on_qr, loginCallback=on_login,
                      exitCallback=on_exit)
    friends = itchat.get_friends(update=True)
    chatrooms = itchat.get_chatrooms(update=True)
    mps = itchat.get_mps(update=True)
    emit("contacts",
         # get_friends() starts with the logged-in user.
         friends=[f["NickName"] for f in friends[1:]],
         groups=[c["NickName"] for c in chatrooms],
         group_members=[len(c["MemberList"]) for c in chatrooms],
         mps=[m["NickName"] for m in mps])
    result = itchat.send("hello from itchat", toUserName="filehelper")
    emit("sent", to_user="filehelper", text="hello from itchat",
         ret=result["BaseResponse"]["Ret"], msg_id=result.get("MsgID"))
    # Handles messages until on_text logs out (or synccheck says 1101).
    itchat.run(debug=False, blockThread=True)
    # The receiving thread is a daemon: wait for it to see the end of the
    # session (synccheck 1101) before the process exits under it.
    emit("logout", receiving_stopped=_exited.wait(timeout=60))


if __name__ == "__main__":
    try:
        main()
    except Exception as e:  # the test shows this line when the bot fails
        emit("error", error=repr(e))
        raise
