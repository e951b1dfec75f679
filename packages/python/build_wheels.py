"""Assembles the two wheels (called by `scripts/package python`):

- wxemu-<v>-py3-none-<tag>.whl: the Python API (wxemu/) and the binary in
  wxemu-<v>.data/scripts/, exactly the layout maturin's `bindings = "bin"`
  gives (pip puts the binary in the environment's bin/ or Scripts/);
- pytest_wxemu-<v>-py3-none-any.whl: pure Python, the `pytest11` entry point.

Written with the standard library from the already built binary: maturin
would rebuild the crate (a second release build in CI) for the same bytes.

Usage: python3 build_wheels.py --binary PATH --platform-tag TAG --version V --out DIR
Prints the path of each wheel, one per line.
"""

import argparse
import base64
import hashlib
import zipfile
from pathlib import Path

HERE = Path(__file__).resolve().parent


def record_line(name, data):
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return f"{name},sha256={digest},{len(data)}"


def write_wheel(path, files, dist_info, metadata, wheel, extra_dist_files=None):
    """files: [(name in the wheel, bytes, unix mode)]."""
    entries = list(files)
    entries.append((f"{dist_info}/METADATA", metadata.encode(), 0o644))
    entries.append((f"{dist_info}/WHEEL", wheel.encode(), 0o644))
    for name, text in (extra_dist_files or {}).items():
        entries.append((f"{dist_info}/{name}", text.encode(), 0o644))
    record = "\n".join([record_line(n, d) for n, d, _ in entries] + [f"{dist_info}/RECORD,,", ""])
    entries.append((f"{dist_info}/RECORD", record.encode(), 0o644))
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for name, data, mode in entries:
            info = zipfile.ZipInfo(name, date_time=(2020, 1, 1, 0, 0, 0))
            info.external_attr = (0o100000 | mode) << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(info, data)


def sources(root, package):
    return [
        (f"{package}/{p.relative_to(root / package).as_posix()}", p.read_bytes(), 0o644)
        for p in sorted((root / package).rglob("*.py"))
    ]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--binary", required=True)
    parser.add_argument("--platform-tag", required=True)
    parser.add_argument("--version", required=True)
    parser.add_argument("--out", required=True)
    args = parser.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    v = args.version
    exe = "wxemu.exe" if args.platform_tag.startswith("win") else "wxemu"

    wheel_path = out / f"wxemu-{v}-py3-none-{args.platform_tag}.whl"
    write_wheel(
        wheel_path,
        sources(HERE / "wxemu" / "python", "wxemu")
        + [(f"wxemu-{v}.data/scripts/{exe}", Path(args.binary).read_bytes(), 0o755)],
        f"wxemu-{v}.dist-info",
        "Metadata-Version: 2.1\nName: wxemu\nVersion: " + v + "\n"
        "Summary: A fake WeChat for tests: \"Log in with WeChat\" offline, from Python and pytest\n"
        "License: MIT\nRequires-Python: >=3.8\n",
        "Wheel-Version: 1.0\nGenerator: wxemu build_wheels.py\nRoot-Is-Purelib: false\n"
        f"Tag: py3-none-{args.platform_tag}\n",
    )
    print(wheel_path)

    plugin_path = out / f"pytest_wxemu-{v}-py3-none-any.whl"
    write_wheel(
        plugin_path,
        sources(HERE / "pytest-wxemu", "pytest_wxemu"),
        f"pytest_wxemu-{v}.dist-info",
        "Metadata-Version: 2.1\nName: pytest-wxemu\nVersion: " + v + "\n"
        "Summary: pytest fixtures for wxemu, a fake WeChat for tests\nLicense: MIT\n"
        "Requires-Python: >=3.8\nClassifier: Framework :: Pytest\n"
        f"Requires-Dist: wxemu=={v}\nRequires-Dist: pytest>=7\n",
        "Wheel-Version: 1.0\nGenerator: wxemu build_wheels.py\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
        {"entry_points.txt": "[pytest11]\nwxemu = pytest_wxemu.plugin\n"},
    )
    print(plugin_path)


if __name__ == "__main__":
    main()
