"""``make run``'s server, ``manage.py devserver``: it serves on the port it is given, its
banner names every fake of the demo it started, and Ctrl+C stops all of it."""

from __future__ import annotations

import contextlib
import io
import os
import re
import shlex
import signal
import subprocess
import sys
import threading
import uuid
from pathlib import Path

import pytest
import requests
from django.core.management import call_command

from tests.cluster import BASE_DIR, free_port, processes, subprocess_env, wait_for

pytestmark = [pytest.mark.cluster, pytest.mark.django_db(transaction=True)]

FAKES = {
    "Plex": "PLAYLISTER_PLEX_URL",
    "Last.fm": "PLAYLISTER_LASTFM_URL",
    "Spotify": "PLAYLISTER_SPOTIFY_API_URL",
    "AudioMuse-AI": "PLAYLISTER_AUDIOMUSE_URL",
}


class Output:
    """Collects a process's output lines as they come (its children write there too)."""

    def __init__(self, stream) -> None:
        self.lines: list[str] = []
        self._thread = threading.Thread(target=self._read, args=(stream,), daemon=True)
        self._thread.start()

    def _read(self, stream) -> None:
        for line in stream:
            self.lines.append(line.rstrip("\n"))

    def text(self) -> str:
        return "\n".join(self.lines)


def _started_with(variable: str) -> set[int]:
    """The live processes whose environment holds ``variable`` (``NAME=value``): whatever the
    devserver started, even once it is gone and they were handed to init."""
    found = set()
    for process in processes():
        with contextlib.suppress(OSError):
            environ = Path(f"/proc/{process.pid}/environ").read_bytes().split(b"\0")
            if process.alive and variable.encode() in environ:
                found.add(process.pid)
    return found


def test_devserver_serves_on_its_port_names_every_fake_and_stops_all_on_ctrl_c(tmp_path):
    port = free_port()
    cluster_name = f"devserver-{uuid.uuid4().hex[:8]}"
    env = subprocess_env(
        # Its own data directory (demo.env, caches), cluster name and cache keys: its cluster
        # must never take this test run's tickets.
        PLAYLISTER_DATA_DIR=str(tmp_path),
        PLAYLISTER_CLUSTER_NAME=cluster_name,
        PLAYLISTER_CACHE_PREFIX=f"devserver-{uuid.uuid4().hex[:8]}",
    )
    env.pop("PLAYLISTER_PLEX_URL", None)  # no Plex: the demo
    proc = subprocess.Popen(
        [sys.executable, "manage.py", "devserver", "--port", str(port)],
        cwd=BASE_DIR,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    output = Output(proc.stdout)
    base = f"http://127.0.0.1:{port}"
    mine = f"PLAYLISTER_CLUSTER_NAME={cluster_name}"
    try:

        def up() -> bool:
            if proc.poll() is not None:
                raise AssertionError(f"devserver exited {proc.returncode}:\n{output.text()}")
            with contextlib.suppress(requests.ConnectionError):
                return requests.get(f"{base}/health", timeout=2).ok
            return False

        wait_for(up, timeout=60, interval=0.2, what="devserver to answer on its port")
        banner = output.text()
        assert f"Serving {base}/ with a job cluster of 2 workers. Ctrl+C stops both." in banner
        # Every fake it started is named with the address the app is given for it.
        demo_file = tmp_path / "demo.env"
        assert demo_file.stat().st_mode & 0o777 == 0o600
        written = {
            name: shlex.split(value)[0]
            for name, _, value in (
                line.partition("=") for line in demo_file.read_text(encoding="utf-8").splitlines()
            )
        }
        named = dict(re.findall(r"^  (\S+) +(http://\S+)$", banner, re.M))
        assert set(named) == set(FAKES)
        for name, setting in FAKES.items():
            assert written[setting].startswith(named[name]), (name, written[setting])
        bearer = {"Authorization": f"Bearer {written['PLAYLISTER_AUDIOMUSE_TOKEN']}"}
        audiomuse = f"{written['PLAYLISTER_AUDIOMUSE_URL']}/api/health"
        assert requests.get(audiomuse, headers=bearer, timeout=5).ok
        assert f"Their settings are in {demo_file}" in banner
        # runserver without DEBUG serves the static files (WhiteNoise) and the pages.
        assert requests.get(f"{base}/static/css/app.css", timeout=5).status_code == 200
        assert requests.get(f"{base}/login/", timeout=5).status_code == 200
        # Itself, the cluster (main, sentinel, monitor, pusher, workers), runserver and its
        # reloaded server.
        assert len(_started_with(mine) - {proc.pid}) >= 6

        proc.send_signal(signal.SIGINT)  # Ctrl+C at its terminal
        assert proc.wait(60) == 0, output.text()
        wait_for(
            lambda: not _started_with(mine),
            timeout=15,
            what="the cluster and the web server to be gone",
        )
        assert not demo_file.exists()
    finally:
        for pid in _started_with(mine):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        proc.wait(10)


@pytest.mark.parametrize(
    ("host", "url"),
    [
        ("127.0.0.1", "http://127.0.0.1:8765/"),
        ("0.0.0.0", "http://127.0.0.1:8765/"),  # every interface: this machine's loopback
        ("::", "http://[::1]:8765/"),
        ("[::1]", "http://[::1]:8765/"),
        ("playlister.lan", "http://playlister.lan:8765/"),
    ],
)
def test_the_login_line_names_the_address_make_run_serves(host, url, settings, tmp_path):
    settings.DATA_DIR = tmp_path
    out = io.StringIO()
    call_command("ensure_admin", "--host", host, "--port", "8765", stdout=out)
    assert f"Log in at {url} as 'admin'" in out.getvalue()


@pytest.mark.parametrize("host", ["bad host", "-x.lan", "a" * 300, "1.2.3.4:80"])
def test_a_bad_host_is_one_line_and_exit_2(host):
    proc = subprocess.run(
        [sys.executable, "manage.py", "devserver", f"--host={host}"],
        cwd=BASE_DIR,
        env=subprocess_env(),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 2
    assert proc.stderr.count("\n") == 1 and "neither an IP address nor a host name" in proc.stderr
