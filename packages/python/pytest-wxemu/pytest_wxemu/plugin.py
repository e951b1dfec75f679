"""pytest fixtures for wxemu.

- ``wxemu``: one wxemu per pytest process, so one per pytest-xdist worker,
  reset before each test that uses it.
- ``wxemu_options``: the options ``wxemu.start()`` gets (session scope);
  override it in a conftest.py: ``@pytest.fixture(scope="session")
  def wxemu_options(): return {"accounts": [{"id": "alice", "nickname": "Alice"}]}``.
- ``wxemu_chromium_args``: Chromium flags that send WeChat's hosts to this
  worker's wxemu and trust only its CAs (for pytest-playwright:
  ``browser_type_launch_args``, see wxemu's README).
"""

import pytest

import wxemu as _wxemu


@pytest.fixture(scope="session")
def wxemu_options():
    return {}


@pytest.fixture(scope="session")
def _wxemu_instance(wxemu_options):
    with _wxemu.start(**wxemu_options) as wx:
        yield wx


@pytest.fixture
def wxemu(_wxemu_instance):
    _wxemu_instance.reset()
    return _wxemu_instance


@pytest.fixture(scope="session")
def wxemu_chromium_args(_wxemu_instance):
    return _wxemu_instance.chromium_args()
