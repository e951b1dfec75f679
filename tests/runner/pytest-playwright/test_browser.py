"""The built-in demo in Debian's chromium through pytest-playwright's
``page``, routed to this worker's wxemu by pytest-wxemu."""

import re

from playwright.sync_api import expect


def test_allow_as_alice_on_the_demo(page, wxemu):
    wxemu.decide("allow", account="alice")
    page.goto(f"{wxemu.url}/demo/")
    page.locator("#login-redirect").click()
    page.locator("#fast_login_btn").click()
    expect(page.locator("#nickname")).to_have_text("Alice")


def test_the_real_login_page_url_reaches_this_workers_wxemu(page, wxemu):
    page.goto(f"{wxemu.url}/demo/")
    page.locator("#login-redirect").click()
    page.wait_for_url(re.compile(r"/connect/qrconnect\?"))
    real = re.sub(r"^https://[^/]+", "https://open.weixin.qq.com", page.url)
    wxemu.decide("deny")
    page.goto(real)
    page.locator("#fast_login_btn").click()
    expect(page.get_by_text("已拒绝")).to_be_visible()
    entry = wxemu.journal.wait_for(endpoint="login-page", host="open.weixin.qq.com", timeout="5s")
    assert entry["path"] == "/connect/qrconnect"


def test_wechat_browser_makes_the_context_wechats(context, wxemu):
    wxemu.wechat_browser(context)
    page = context.new_page()
    agents = []
    page.on("request", lambda r: agents.append(r.headers.get("user-agent", "")))
    page.goto(f"{wxemu.url}/demo/")
    assert "MicroMessenger/" in page.evaluate("navigator.userAgent")
    assert page.evaluate("typeof window.WeixinJSBridge.invoke") == "function"
    assert "MicroMessenger/" in agents[0]
