#!/usr/bin/env python3
"""Open a liqsim report in headless Chromium and check it, with the standard library only.

    tools/report_check.py REPORT.html SUMMARY.json SCREENSHOT.png [HEIGHT]

Chromium is driven through its DevTools protocol over a pipe (--remote-debugging-pipe: the
browser reads NUL-terminated JSON commands on fd 3 and writes replies and events on fd 4), so no
WebSocket client and no network port are needed. The check fails (exit 1) when:

- the page logs any console error, throws an uncaught exception, or a resource fails to load;
- a headline number (an element with data-key, a JSON pointer into summary.json, and
  data-value) differs from summary.json's value, or the page has none;
- the page asks for anything over the network (it must be self-contained).

It writes a screenshot of the page, 1200 pixels wide, its top HEIGHT pixels (default: all of
it, up to 6000). SUMMARY.json "-" skips the numbers' check (a sweep has no summary). Exit 2 for bad arguments or a browser that cannot start.
"""

import base64
import fcntl
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
    "--disable-dev-shm-usage",
    "--remote-debugging-pipe",
]

# What the page's headline elements hold, read in the page after its scripts ran.
HEADLINES_JS = """JSON.stringify([...document.querySelectorAll('[data-key]')].map(e =>
  [e.dataset.key, e.dataset.value, e.textContent]))"""


class Browser:
    """One headless Chromium and a session on its first page."""

    def __init__(self, binary, profile):
        to_browser_r, self.to_browser = os.pipe()
        self.from_browser, from_browser_w = os.pipe()

        def onto_3_and_4():
            # In the child: the pipe ends become fds 3 and 4 (via fds above both, so neither
            # overwrites the other), inheritable by the browser.
            high = [fcntl.fcntl(fd, fcntl.F_DUPFD, 10) for fd in (to_browser_r, from_browser_w)]
            os.dup2(high[0], 3)
            os.dup2(high[1], 4)

        self.log = tempfile.TemporaryFile()
        self.proc = subprocess.Popen(
            [binary, *FLAGS, f"--user-data-dir={profile}", "about:blank"],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=self.log,
            close_fds=False,
            preexec_fn=onto_3_and_4,
        )
        os.close(to_browser_r)
        os.close(from_browser_w)
        self.buffer = b""
        self.next_id = 0
        self.events = []
        self.session = None

    def send(self, method, params=None, session=True, timeout=60):
        self.next_id += 1
        msg = {"id": self.next_id, "method": method, "params": params or {}}
        if session and self.session:
            msg["sessionId"] = self.session
        os.write(self.to_browser, json.dumps(msg).encode() + b"\0")
        deadline = time.monotonic() + timeout
        while True:
            reply = self.read(deadline)
            if reply.get("id") == self.next_id:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                return reply.get("result", {})
            self.events.append(reply)

    def read(self, deadline):
        while b"\0" not in self.buffer:
            if time.monotonic() > deadline:
                raise TimeoutError("the browser did not answer in time")
            chunk = os.read(self.from_browser, 1 << 16)
            if not chunk:
                self.log.seek(0)
                err = self.log.read().decode(errors="replace")
                raise RuntimeError(f"the browser closed its pipe\n{err[-2000:]}")
            self.buffer += chunk
        line, self.buffer = self.buffer.split(b"\0", 1)
        return json.loads(line)

    def wait_for(self, method, timeout=60):
        deadline = time.monotonic() + timeout
        while True:
            for e in self.events:
                if e.get("method") == method:
                    return e
            self.events.append(self.read(deadline))

    def close(self):
        try:
            self.send("Browser.close", session=False, timeout=10)
        except Exception:
            pass
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()


def problems_in(events, url):
    """Console errors, uncaught exceptions, failed loads and network requests among events."""
    found = []
    for e in events:
        m, p = e.get("method"), e.get("params", {})
        if m == "Runtime.exceptionThrown":
            d = p["exceptionDetails"]
            text = d.get("exception", {}).get("description") or d.get("text")
            found.append(f"uncaught exception at {d.get('lineNumber')}:{d.get('columnNumber')}: {text}")
        elif m == "Runtime.consoleAPICalled" and p.get("type") in ("error", "assert"):
            args = " ".join(str(a.get("value", a.get("description", ""))) for a in p.get("args", []))
            found.append(f"console.{p['type']}: {args}")
        elif m == "Log.entryAdded" and p["entry"].get("level") == "error":
            found.append(f"log error ({p['entry'].get('source')}): {p['entry'].get('text')}")
        elif m == "Network.requestWillBeSent":
            req = p["request"]["url"]
            if req != url and not req.startswith(("data:", "about:")):
                found.append(f"the page requested {req}")
        elif m == "Network.loadingFailed":
            found.append(f"a resource failed to load: {p.get('errorText')}")
    return found


def pointer(doc, key):
    """The value at a JSON pointer (RFC 6901) of doc."""
    for part in key.lstrip("/").split("/") if key != "" else []:
        part = part.replace("~1", "/").replace("~0", "~")
        doc = doc[int(part)] if isinstance(doc, list) else doc[part]
    return doc


def same(expected, shown):
    if isinstance(expected, bool) or not isinstance(expected, (int, float)):
        return str(expected) == shown
    try:
        return float(shown) == float(expected)
    except ValueError:
        return False


def main():
    if len(sys.argv) not in (4, 5):
        print(__doc__, file=sys.stderr)
        return 2
    report, summary_path, shot = sys.argv[1:4]
    most = int(sys.argv[4]) if len(sys.argv) == 5 else 6000
    binary = shutil.which("chromium") or shutil.which("chromium-browser")
    if not binary:
        print("report_check: chromium not found", file=sys.stderr)
        return 2
    summary = json.load(open(summary_path)) if summary_path != "-" else None
    url = "file://" + os.path.abspath(report)
    with tempfile.TemporaryDirectory(prefix="liqsim-chromium-") as profile:
        b = Browser(binary, profile)
        try:
            targets = b.send("Target.getTargets", session=False)["targetInfos"]
            page = next(t for t in targets if t["type"] == "page")
            b.session = b.send(
                "Target.attachToTarget", {"targetId": page["targetId"], "flatten": True}, session=False
            )["sessionId"]
            for domain in ("Page", "Runtime", "Log", "Network"):
                b.send(f"{domain}.enable")
            b.events.clear()
            b.send("Emulation.setDeviceMetricsOverride",
                   {"width": 1200, "height": 900, "deviceScaleFactor": 1, "mobile": False})
            b.send("Page.navigate", {"url": url})
            b.wait_for("Page.loadEventFired")
            # Let timers and late errors surface.
            b.send("Runtime.evaluate", {"expression": "new Promise(r => setTimeout(r, 300))",
                                        "awaitPromise": True})
            headlines = json.loads(
                b.send("Runtime.evaluate", {"expression": HEADLINES_JS, "returnByValue": True})
                ["result"]["value"]
            )
            height = b.send("Runtime.evaluate", {
                "expression": "Math.ceil(document.documentElement.scrollHeight)", "returnByValue": True
            })["result"]["value"]
            shot_data = b.send("Page.captureScreenshot", {
                "format": "png", "captureBeyondViewport": True,
                "clip": {"x": 0, "y": 0, "width": 1200, "height": min(height, most), "scale": 1},
            })["data"]
            with open(shot, "wb") as f:
                f.write(base64.b64decode(shot_data))
            problems = problems_in(b.events, url)
        finally:
            b.close()
    if summary is not None:
        if not headlines:
            problems.append("no headline numbers (data-key elements) in the page")
        for key, value, text in headlines:
            try:
                expected = pointer(summary, key)
            except (KeyError, IndexError, ValueError):
                problems.append(f"{key}: not in {summary_path}")
                continue
            if not same(expected, value):
                problems.append(f"{key}: the page shows {value!r} ({text.strip()!r}), summary.json has {expected!r}")
    for p in problems:
        print(f"report_check: {report}: {p}", file=sys.stderr)
    if problems:
        return 1
    print(f"report_check: {report}: no console errors, {len(headlines)} headline numbers equal "
          f"{summary_path}; screenshot {shot}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
