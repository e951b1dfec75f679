"""pytest fixtures for wxemu.

- ``wxemu``: one wxemu per pytest process, so one per pytest-xdist worker,
  reset before each test that uses it.
- ``wxemu_options``: the options ``wxemu.start()`` gets (session scope);
  override it in a conftest.py: ``@pytest.fixture(scope="session")
  def wxemu_options(): return {"accounts": [{"id": "alice", "nickname": "Alice"}]}``.
- ``wxemu_chromium_args``: Chromium flags that send WeChat's hosts to this
  worker's wxemu and trust only its CAs.
- With pytest-playwright: its ``browser_type_launch_args`` get those flags,
  so ``page`` reaches the worker's wxemu at the real WeChat URLs (no
  ``ignore_https_errors``, nothing installed on the machine).
"""

import os

import pytest

import wxemu as _wxemu


@pytest.fixture(scope="session")
def wxemu_options():
    return {}


@pytest.fixture(scope="session")
def _wxemu_instance(wxemu_options, tmp_path_factory):
    # The xdist workers of a run share their CAs (created once, not per
    # worker): their base temp directories have one parent.
    base = tmp_path_factory.getbasetemp()
    shared = base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base
    options = {"ca_dir": str(shared / "wxemu-ca"), **wxemu_options}
    with _wxemu.start(**options) as wx:
        yield wx


@pytest.fixture
def wxemu(_wxemu_instance):
    _wxemu_instance.reset()
    return _wxemu_instance


@pytest.fixture(scope="session")
def wxemu_chromium_args(_wxemu_instance):
    return _wxemu_instance.chromium_args()



def pytest_configure(config):
    # After pytest-playwright, so pytest_wxemu.playwright's
    # browser_type_launch_args wraps its own (a conftest.py still wraps ours).
    if config.pluginmanager.hasplugin("playwright"):
        from . import playwright

        config.pluginmanager.register(playwright, "wxemu-playwright-routing")
