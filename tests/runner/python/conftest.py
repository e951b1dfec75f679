"""The pytest-wxemu suite (tests/runner/python/run.sh runs it with -n 2 from
the installed wheels). The plugin's ``wxemu`` fixture comes from the
``pytest11`` entry point; this file only sets its options and the two HTTP
clients a login involves."""

import os
import ssl
from pathlib import Path

import pytest
import requests
from requests.adapters import HTTPAdapter

APP = {
    "appid": "wx5173000000000001",
    "secret": "site-secret-0123456789abcdef",
    "name": "Example Site",
    "callback_domains": ["site.example"],
}
HOST = "localhost.weixin.qq.com"


@pytest.fixture(scope="session")
def wxemu_options():
    return {"accounts": [{"id": "alice", "nickname": "Alice"}], "apps": [APP]}


class _Loopback(HTTPAdapter):
    """Connects to 127.0.0.1 while TLS still checks localhost.weixin.qq.com
    against wxemu's CA only (what the browser does: the name's public A
    record is 127.0.0.1)."""

    def __init__(self, ca_path):
        self.context = ssl.create_default_context(cafile=ca_path)
        super().__init__()

    def init_poolmanager(self, *args, **kwargs):
        kwargs["server_hostname"] = HOST
        kwargs["ssl_context"] = self.context
        super().init_poolmanager(*args, **kwargs)


class Browser:
    """The login page's side: calls https://localhost.weixin.qq.com:<port>."""

    def __init__(self, wx):
        self.wx = wx
        self.session = requests.Session()
        # Nothing from the environment: requests lets REQUESTS_CA_BUNDLE beat
        # a session's own verify, and HTTPS_PROXY would send this elsewhere.
        self.session.trust_env = False
        self.session.verify = wx.ca_path
        self.session.mount("https://", _Loopback(wx.ca_path))

    def post(self, path, body):
        return self.session.post(
            f"https://127.0.0.1:{self.wx.port}{path}",
            json=body,
            headers={"Host": f"{HOST}:{self.wx.port}", "Origin": "https://open.weixin.qq.com"},
            timeout=30,
        ).json()


@pytest.fixture
def browser(wxemu):
    return Browser(wxemu)


@pytest.fixture
def backend(wxemu):
    """A site's backend: the real WeChat URLs, through wxemu's interception
    proxy, trusting its interception CA."""
    session = requests.Session()
    session.trust_env = False  # as Browser: this session's CA and proxy only
    session.proxies = {"https": wxemu.proxy}
    session.verify = wxemu.intercept_ca_path
    return session


@pytest.fixture(autouse=True)
def _note_worker(request):
    """Which wxemu each xdist worker used (run.sh checks: 2 workers, 2 instances)."""
    if "wxemu" in request.fixturenames:
        wx = request.getfixturevalue("wxemu")
        out = Path(os.environ.get("RUNNER_OUT", "."))
        with open(out / "workers.txt", "a") as f:
            f.write(f"{os.environ.get('PYTEST_XDIST_WORKER', 'main')} {wx.port}\n")
