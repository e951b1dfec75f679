"""Finds the wxemu binary the wheel installed (maturin's `bindings = "bin"`
puts it in the environment's scripts directory). WXEMU_BINARY overrides it."""

import os
import sys
import sysconfig
from pathlib import Path

EXE = "wxemu.exe" if sys.platform == "win32" else "wxemu"


def binary_path() -> str:
    override = os.environ.get("WXEMU_BINARY")
    if override:
        if not Path(override).is_file():
            raise FileNotFoundError(f"WXEMU_BINARY={override}: no such file")
        return override
    candidates = [Path(sysconfig.get_path("scripts")) / EXE]
    user_scheme = {"win32": "nt_user", "darwin": "osx_framework_user"}.get(sys.platform, "posix_user")
    try:
        candidates.append(Path(sysconfig.get_path("scripts", scheme=user_scheme)) / EXE)
    except KeyError:
        pass
    # `pip install --target DIR`: DIR/bin next to DIR/wxemu.
    candidates.append(Path(__file__).resolve().parent.parent / "bin" / EXE)
    for candidate in candidates:
        if candidate.is_file():
            return str(candidate)
    raise FileNotFoundError(
        "wxemu: the wxemu binary is not installed next to this package (looked in "
        + ", ".join(str(c.parent) for c in candidates)
        + "). Install the wxemu wheel for this platform (pip install wxemu), "
        "or point WXEMU_BINARY at a wxemu binary."
    )
