"""The Python API of wxemu: ``with start() as wx:`` runs a private
``wxemu serve`` on free ports in its own temporary data directory; every
method is one call of its control API (docs/control-api.md), never a second
implementation, and errors carry the control API's own message.

    from wxemu import start
    with start() as wx:                       # approve="ask", intercept=True
        wx.decide("allow", account="alice")
        entry = wx.journal.wait_for(endpoint="token", timeout="5s")
"""

import base64
import hashlib
import http.client
import json as jsonlib
import os
import re
import shutil
import socket
import ssl
import subprocess
import tempfile
import threading
import time
import urllib.parse
from pathlib import Path

from ._binary import binary_path

__all__ = ["start", "Wxemu", "WxemuError", "binary_path"]

HOST = "localhost.weixin.qq.com"
CONTROL = "/__wxemu"
START_TIMEOUT = 30.0
STDERR_KEEP = 16 * 1024

_started = 0
_started_lock = threading.Lock()


class WxemuError(Exception):
    """A control API error (``status``, ``body``) or a failed start."""

    def __init__(self, message, status=None, body=None):
        super().__init__(message)
        self.status = status
        self.body = body


def start(approve="ask", intercept=True, port=0, data_dir=None, accounts=(), apps=(), args=(), env=None, ca_dir=None):
    """Starts wxemu and returns a ready :class:`Wxemu` (also a context manager).

    approve: "ask" (logins wait for decide() or the policy) | "auto" | "deny" | "never".
    intercept: run the interception proxy (``wx.proxy``) on a free port.
    accounts, apps: dicts added through the control API.
    args: more ``wxemu serve`` arguments; env: more environment variables.
    ca_dir: share the CAs through this directory: a new data directory starts
    with the CAs found there (no key generation: faster, one trust covers
    every instance), and the first instance leaves its CAs there.
    """
    global _started
    own_dir = data_dir is None
    data_dir = Path(tempfile.mkdtemp(prefix="wxemu-")) if own_dir else Path(data_dir)
    with _started_lock:
        _started += 1
        ready_file = data_dir / f"ready-{os.getpid()}-{_started}.json"
    ready_file.unlink(missing_ok=True)
    if ca_dir is not None:
        _seed_cas(Path(ca_dir), data_dir)
    command = [
        binary_path(), "serve",
        "--port", str(port),
        "--data-dir", str(data_dir),
        "--ready-file", str(ready_file),
        "--approve", approve,
        "--only-own-port",
    ]
    if intercept:
        command += ["--proxy-port", "0"]
    command += list(args)
    process = subprocess.Popen(
        command,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        env={**os.environ, **(env or {})},
    )
    stderr = _Tail(process.stderr)
    try:
        ready = _wait_for_ready(ready_file, process, stderr)
    except BaseException:
        if process.poll() is None:
            process.kill()
            process.wait()
        if own_dir:
            shutil.rmtree(data_dir, ignore_errors=True)
        raise
    if ca_dir is not None:
        _keep_cas(Path(ca_dir), data_dir)
    wx = Wxemu(ready, process, data_dir=data_dir, own_dir=own_dir, ready_file=ready_file)
    try:
        for account in accounts:
            wx.accounts.add(**account)
        for app in apps:
            wx.apps.add(**app)
    except BaseException:
        wx.stop()
        raise
    return wx


# The CAs, each with its key (and, for the fast-login CA, the leaf for
# localhost.weixin.qq.com it signed), shared as one directory per CA.
_CAS = {
    "fast-login": ("ca.pem", "ca-key.pem", "leaf.pem", "leaf-key.pem"),
    "intercept": ("intercept-ca.pem", "intercept-ca-key.pem"),
}


def _seed_cas(ca_dir, data_dir):
    """Copies the shared CAs into a data directory that has none yet."""
    for name, files in _CAS.items():
        shared = ca_dir / name
        if not shared.is_dir() or any((data_dir / f).exists() for f in files):
            continue
        for f in files:
            shutil.copyfile(shared / f, data_dir / f)
            if f.endswith("-key.pem"):
                os.chmod(data_dir / f, 0o600)


def _keep_cas(ca_dir, data_dir):
    """Leaves this instance's CAs in ca_dir: each CA's files go into a
    temporary directory renamed into place whole (a reader sees all or none;
    of two racing instances one wins)."""
    ca_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    for name, files in _CAS.items():
        shared = ca_dir / name
        if shared.exists() or not all((data_dir / f).exists() for f in files):
            continue
        temp = Path(tempfile.mkdtemp(prefix=f".{name}-", dir=ca_dir))
        for f in files:
            shutil.copyfile(data_dir / f, temp / f)
        try:
            os.rename(temp, shared)
        except OSError:
            shutil.rmtree(temp, ignore_errors=True)  # another instance won


class _Tail:
    """The last STDERR_KEEP characters of a stream, read in a thread."""

    def __init__(self, stream):
        self.text = ""
        self._thread = threading.Thread(target=self._read, args=(stream,), daemon=True)
        self._thread.start()

    def _read(self, stream):
        for line in iter(stream.readline, b""):
            self.text = (self.text + line.decode("utf-8", "replace"))[-STDERR_KEEP:]

    def said(self):
        self._thread.join(timeout=1)
        lines = [l for l in self.text.splitlines() if l.startswith("wxemu: ")]
        return lines[-1] if lines else None


def _wait_for_ready(ready_file, process, stderr):
    deadline = time.monotonic() + START_TIMEOUT
    while True:
        if ready_file.exists():
            try:
                return jsonlib.loads(ready_file.read_text())
            except ValueError:
                pass  # written atomically; only a reader racing the rename lands here
        code = process.poll()
        if code is not None:
            said = stderr.said()
            raise WxemuError(said or f"wxemu serve exited ({code}) before it was ready:\n{stderr.text}")
        if time.monotonic() > deadline:
            process.kill()
            raise WxemuError(f"wxemu serve was not ready after {START_TIMEOUT} s:\n{stderr.text}")
        time.sleep(0.002)


class Wxemu:
    """One running wxemu. Attributes: url, port, ports, proxy, pac_url,
    ca_path, intercept_ca_path, token, data_dir, pid, version."""

    def __init__(self, ready, process, data_dir, own_dir, ready_file):
        self._process = process
        self._own_dir = own_dir
        self._ready_file = ready_file
        self.url = ready["url"]
        self.port = ready["port"]
        self.ports = ready["ports"]
        self.proxy = ready.get("proxy")
        self.pac_url = ready.get("pac_url")
        self.ca_path = ready["ca"]
        self.intercept_ca_path = ready.get("intercept_ca")
        self.token = Path(ready["token_file"]).read_text().strip()
        self.data_dir = str(data_dir)
        self.pid = ready["pid"]
        self.version = ready["version"]
        self._tls = ssl.create_default_context(cafile=self.ca_path)
        self._lock = threading.Lock()
        self._connection = None
        self.clock = _Clock(self)
        self.journal = _Journal(self)
        self.accounts = _Collection(self, "/accounts")
        self.apps = _Collection(self, "/apps")

    # ---- the control API -------------------------------------------------

    def _connect(self):
        connection = http.client.HTTPSConnection(HOST, self.port, context=self._tls, timeout=660)
        # TCP to 127.0.0.1 (no DNS); TLS and Host still name localhost.weixin.qq.com.
        connection._create_connection = lambda address, *a, **kw: socket.create_connection(
            ("127.0.0.1", address[1]), *a, **kw
        )
        return connection

    def api(self, method, path, json=None):
        """Any control API call ("/client" or "/__wxemu/client"); parsed JSON."""
        full = path if path.startswith(CONTROL + "/") else CONTROL + path
        status, text = self._send(method, full, json)
        try:
            value = jsonlib.loads(text) if text else None
        except ValueError:
            value = text
        if 200 <= status < 300:
            return value
        message = value.get("error", text) if isinstance(value, dict) else text
        raise WxemuError(f"wxemu: {method} {full}: {status}: {message}", status=status, body=value)

    def wechat_browser(self, context, os="ios"):
        """Makes a Playwright BrowserContext WeChat's in-app browser
        (docs/h5.md): wxemu's bridge before every page's scripts, WeChat's
        User-Agent on every request. ``os``: "ios" or "android"."""
        path = f"/h5/bridge.js?os={_quote(os)}"
        status, script = self._send("GET", path)
        if status != 200:
            raise WxemuError(f"wxemu: GET {path}: {status}: {script}", status=status)
        # The User-Agent the bridge itself plays, from its config.
        ua = re.search(r'"ua":"([^"]+)"', script)
        if not ua:
            raise WxemuError(f'wxemu: GET {path}: no "ua" in the bridge\'s config')
        context.set_extra_http_headers({"user-agent": ua.group(1)})
        context.add_init_script(script=script)
        return context

    def _send(self, method, full, json=None):
        """One HTTPS request to this wxemu: (status, text)."""
        body = None if json is None else jsonlib.dumps(json).encode()
        headers = {"Authorization": f"Bearer {self.token}"}
        if body is not None:
            headers["Content-Type"] = "application/json"
        with self._lock:
            for attempt in (1, 2):
                if self._connection is None:
                    self._connection = self._connect()
                try:
                    self._connection.request(method, full, body=body, headers=headers)
                    response = self._connection.getresponse()
                    status, text = response.status, response.read().decode("utf-8", "replace")
                    break
                except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                    # An idle keep-alive connection the server closed: once more, afresh.
                    self._connection.close()
                    self._connection = None
                    if attempt == 2:
                        raise
                except OSError as e:
                    self._connection.close()
                    self._connection = None
                    exited = " (wxemu has exited)" if self._process.poll() is not None else ""
                    raise WxemuError(f"wxemu: {method} {full}: {e}{exited}") from e
        return status, text

    def decide(self, decision, account=None, delay=None, count=None):
        """The next login decision: "allow" (as ``account``), "deny" or "timeout"."""
        return self.api("POST", "/decisions", _fields(decision=decision, account=account, delay=delay, count=count))

    def scan(self, uuid=None, account=None):
        """The phone of ``account`` scans QR login ``uuid`` (default: the newest)."""
        return self.api("POST", f"/qr/{_quote(uuid or 'latest')}/scan", _fields(account=account))

    def confirm(self, uuid=None):
        return self.api("POST", f"/qr/{_quote(uuid or 'latest')}/confirm", {})

    def cancel(self, uuid=None):
        return self.api("POST", f"/qr/{_quote(uuid or 'latest')}/cancel", {})

    def fault(self, endpoint, **spec):
        """Injects a fault: fault(endpoint="authorize", errcode=10046, times=1)."""
        return self.api("POST", "/faults", {"endpoint": endpoint, **spec})

    def client(self, **change):
        """The client's state; with arguments (state=, account=) changes it."""
        return self.api("PATCH", "/client", change) if change else self.api("GET", "/client")

    def reset(self):
        return self.api("POST", "/reset")

    def chromium_args(self):
        """Chromium flags that send WeChat's hosts here and trust only this
        wxemu's CAs (by their keys' hashes; wxemu sends its CA in every chain)."""
        hashes = [_spki_hash(p) for p in (self.ca_path, self.intercept_ca_path) if p]
        args = [f"--host-resolver-rules=MAP {HOST} 127.0.0.1", "--ignore-certificate-errors-spki-list=" + ",".join(hashes)]
        if self.proxy:
            args = [f"--proxy-server={self.proxy}", f"--proxy-bypass-list={HOST}"] + args
        return args

    # ---- lifetime ---------------------------------------------------------

    def stop(self):
        """Stops wxemu (SIGTERM: held requests are answered first) and
        removes its temporary data directory."""
        if self._process.poll() is None:
            self._process.terminate()
            try:
                self._process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
        with self._lock:
            if self._connection is not None:
                self._connection.close()
                self._connection = None
        self._ready_file.unlink(missing_ok=True)
        if self._own_dir:
            shutil.rmtree(self.data_dir, ignore_errors=True)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()


class _Clock:
    def __init__(self, wx):
        self._wx = wx

    def advance(self, by):
        return self._wx.api("POST", "/clock/advance", {"by": by})

    def freeze(self):
        return self._wx.api("POST", "/clock/freeze")

    def unfreeze(self):
        return self._wx.api("POST", "/clock/unfreeze")

    def now(self):
        return self._wx.api("GET", "/clock")


class _Journal:
    def __init__(self, wx):
        self._wx = wx

    def list(self, **filter):
        return self._wx.api("GET", "/journal" + _query(filter))["entries"]

    def clear(self):
        return self._wx.api("DELETE", "/journal")

    def wait_for(self, timeout="30s", **filter):
        """The first entry matching ``filter`` (already recorded or arriving).
        Raises WxemuError naming the filter and the newest entries on timeout."""
        answer = self._wx.api("GET", "/journal/wait" + _query({**filter, "timeout": timeout}))
        if not answer["timed_out"]:
            return answer["entry"]
        newest = self._wx.api("GET", "/journal?limit=5")["entries"]
        seen = "\n".join(
            f"  #{e['id']} {e['method']} {e['host']}{e['path']} endpoint={e.get('endpoint')} status={e.get('status')}"
            + (f" errcode={e['errcode']}" if e.get("errcode") is not None else "")
            for e in newest
        ) or "  (the journal is empty)"
        raise WxemuError(
            f"wxemu: no request matching {jsonlib.dumps(filter)} within {timeout}; the newest entries:\n{seen}",
            status=408,
        )


class _Collection:
    def __init__(self, wx, path):
        self._wx = wx
        self._path = path

    def add(self, **item):
        return self._wx.api("POST", self._path, item)

    def list(self):
        return self._wx.api("GET", self._path)

    def get(self, key):
        return self._wx.api("GET", f"{self._path}/{_quote(key)}")

    def update(self, key, **change):
        return self._wx.api("PATCH", f"{self._path}/{_quote(key)}", change)

    def remove(self, key):
        return self._wx.api("DELETE", f"{self._path}/{_quote(key)}")


def _fields(**values):
    return {k: v for k, v in values.items() if v is not None}


def _quote(segment):
    return urllib.parse.quote(str(segment), safe="")


def _query(params):
    params = {k: str(v) for k, v in params.items() if v is not None}
    return "?" + urllib.parse.urlencode(params) if params else ""


def _spki_hash(pem_path):
    """base64 SHA-256 of the certificate's SubjectPublicKeyInfo, from the DER
    by hand (the standard library has no X.509 parser)."""
    der = ssl.PEM_cert_to_DER_cert(Path(pem_path).read_text())
    spki = _der_child(_der_child(der, [0]), _spki_position(der))
    return base64.b64encode(hashlib.sha256(spki).digest()).decode()


def _der_items(data):
    """(start, end) of each DER element directly inside ``data``'s content."""
    position = 0
    while position < len(data):
        length = data[position + 1]
        header = 2
        if length & 0x80:
            count = length & 0x7F
            length = int.from_bytes(data[position + 2 : position + 2 + count], "big")
            header += count
        yield position, position + header + length, header
        position += header + length


def _content(element):
    _, end, header = next(_der_items(element))
    return element[header:end]


def _der_child(element, path):
    """The element at ``path`` (indexes) inside ``element``'s content, whole."""
    if isinstance(path, int):
        path = [path]
    for index in path:
        items = list(_der_items(_content(element)))
        start, end, _ = items[index]
        element = _content(element)[start:end]
    return element


def _spki_position(der):
    """TBSCertificate: [0] version (explicit, optional), serial, signature,
    issuer, validity, subject, subjectPublicKeyInfo."""
    tbs = _der_child(der, [0])
    first = _content(tbs)[0]
    return 6 if first == 0xA0 else 5
