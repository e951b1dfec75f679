"""A website's "Log in with WeChat" against the pytest-wxemu fixture: the
login page's calls with requests, the site's backend through the real
api.weixin.qq.com / open.weixin.qq.com names (wxemu's proxy), decisions,
QR scans, faults and the journal through the fixture."""

import json
import re
from urllib.parse import parse_qs, urlparse

import pytest
from conftest import APP
from wxemu import WxemuError

REDIRECT = "https://site.example/callback"


def fast_login(browser, state="s1"):
    """check-login then authorize, as the login page does: the authorize answer."""
    target = {"appid": APP["appid"], "scope": "snsapi_login", "redirect_uri": REDIRECT, "state": state}
    check = browser.post("/api/check-login", {"apiname": "qrconnectchecklogin", "jsdata": target})
    assert check["errcode"] == 0, check
    jsdata = {**target, "data": '{"x":576,"y":391.5}', "authorize_uuid": check["jsdata"]["authorize_uuid"]}
    return browser.post("/api/authorize", {"apiname": "qrconnectfastauthorize", "jsdata": jsdata})


def trade(backend, code):
    """The site's backend: code -> access_token -> userinfo, at the real URLs."""
    token = backend.get(
        "https://api.weixin.qq.com/sns/oauth2/access_token",
        params={"appid": APP["appid"], "secret": APP["secret"], "code": code, "grant_type": "authorization_code"},
        timeout=30,
    ).json()
    if "errcode" in token:
        return token
    userinfo = backend.get(
        "https://api.weixin.qq.com/sns/userinfo",
        params={"access_token": token["access_token"], "openid": token["openid"]},
        timeout=30,
    )
    # UTF-8 bytes under a Content-Type without charset, as WeChat's own
    # answer: requests' .json() would guess Latin-1 (what SDKs work around).
    return json.loads(userinfo.content)


def code_of(authorize):
    assert authorize["errcode"] == 0, authorize
    return parse_qs(urlparse(authorize["jsdata"]["redirect_url"]).query)["code"][0]


def test_allow_as_an_added_account(wxemu, browser, backend):
    wxemu.decide("allow", account="alice")
    user = trade(backend, code_of(fast_login(browser)))
    assert user["nickname"] == "Alice"
    entry = wxemu.journal.wait_for(endpoint="token", host="api.weixin.qq.com", timeout="5s")
    assert entry["path"] == "/sns/oauth2/access_token"


def test_deny(wxemu, browser):
    wxemu.decide("deny")
    assert fast_login(browser)["errcode"] == 10050
    assert wxemu.journal.wait_for(endpoint="authorize", timeout="5s")["decision"] == "denied"


def test_qr_login_scanned_through_the_fixture(wxemu, backend):
    # The real login page URL, through the proxy: a new QR login's uuid.
    page = backend.get(
        "https://open.weixin.qq.com/connect/qrconnect",
        params={"appid": APP["appid"], "redirect_uri": REDIRECT, "response_type": "code", "scope": "snsapi_login", "state": "s", "f": "xml"},
        timeout=30,
    )
    uuid = re.search(r"<uuid>([^<]+)</uuid>", page.text).group(1)
    wxemu.scan(uuid, account="alice")
    wxemu.confirm(uuid)
    poll = backend.get(
        "https://open.weixin.qq.com/connect/l/qrconnect", params={"uuid": uuid, "f": "json"}, timeout=30
    ).json()
    assert poll["wx_errcode"] == 405, poll
    assert trade(backend, poll["wx_code"])["nickname"] == "Alice"


def test_a_fault_once_then_the_real_answer(wxemu, browser, backend):
    wxemu.fault(endpoint="token", errcode=40029, times=1)
    wxemu.decide("allow")
    code = code_of(fast_login(browser))
    assert trade(backend, code)["errcode"] == 40029
    assert trade(backend, code)["nickname"] == "微信测试用户"
    faulted = wxemu.journal.wait_for(endpoint="token", errcode=40029, timeout="5s")
    assert "40029" in faulted["fault"]


def test_reset_before_each_test(wxemu):
    assert wxemu.api("GET", "/decisions")["queue"] == []
    assert wxemu.journal.list() == []
    assert wxemu.client()["state"] == "logged_in"


def test_clear_errors(wxemu):
    with pytest.raises(WxemuError, match='account "nobody" does not exist') as raised:
        wxemu.decide("allow", account="nobody")
    assert raised.value.status == 400
    with pytest.raises(WxemuError, match=r'no request matching \{"endpoint": "token"\} within 200ms') as raised:
        wxemu.journal.wait_for(endpoint="token", timeout="200ms")
    assert "the journal is empty" in str(raised.value)


def test_a_port_in_use_is_named():
    import socket

    from wxemu import start

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(WxemuError, match=f"port {port} on 127.0.0.1 is already in use"):
            start(port=port)


def test_chromium_args_name_both_cas_by_their_key_hashes(wxemu):
    args = wxemu.chromium_args()
    spki = next(a for a in args if a.startswith("--ignore-certificate-errors-spki-list="))
    hashes = spki.split("=", 1)[1].split(",")
    assert len(hashes) == 2 and all(len(h) == 44 for h in hashes), hashes
    assert f"--proxy-server={wxemu.proxy}" in args
