"""pytest-playwright with pytest-wxemu (run by tests/runner/python/run.sh,
-n 2): the plugin adds the routing and trust flags to Chromium's launch;
this file only picks Debian's chromium, as a user's conftest.py would."""

import pytest


@pytest.fixture(scope="session")
def wxemu_options():
    return {"accounts": [{"id": "alice", "nickname": "Alice"}]}


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    args = [*browser_type_launch_args.get("args", []), "--no-sandbox", "--disable-gpu",
            "--disable-background-networking", "--disable-component-update", "--no-first-run"]
    return {**browser_type_launch_args, "executable_path": "/usr/bin/chromium", "args": args}
