"""With pytest-playwright: its Chromium launch gets the flags that send
WeChat's hosts to this worker's wxemu and trust only its CAs. Registered by
pytest_wxemu.plugin once pytest-playwright is loaded."""

import pytest


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args, _wxemu_instance):
    args = [*browser_type_launch_args.get("args", []), *_wxemu_instance.chromium_args()]
    return {**browser_type_launch_args, "args": args}
