"""A render stopped half-way leaves no process behind and only whole files, and records what
finished (issue: nothing half-done)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from seatscore.core import config

pytestmark = [pytest.mark.notebook, pytest.mark.slow]


def _kernels() -> set[int]:
    pids = set()
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            if b"ipykernel_launcher" in cmdline.read_bytes():
                pids.add(int(cmdline.parent.name))
        except OSError:
            pass
    return pids


def _in_session(sid: int) -> set[int]:
    """Processes of the session ``sid`` (the render and the workers it spawned)."""
    found = set()
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if fields[0] != "Z" and int(fields[3]) == sid:  # state, ppid, pgrp, session
            found.add(int(stat.parent.name))
    return found


def _parent(pid: int) -> int | None:
    try:
        return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])
    except (OSError, IndexError, ValueError):
        return None


def _kernels_of(sid: int) -> set[int]:
    """The kernels the render of session ``sid`` started (their parent is one of its workers).
    Kernels of other tests, running beside this one under pytest-xdist, are not counted."""
    session = _in_session(sid)
    return {k for k in _kernels() if _parent(k) in session}


def _wait(predicate, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.5)
    return predicate()


def _start(demo_db: Path, out: Path) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(config.ROOT / "lib")}
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "seatscore.cli",
            "render",
            "--month",
            "all",
            "--contract",
            "karamay-grid-2024",
            "haidian-hotline-2022",
            "--db",
            str(demo_db),
            "--out",
            str(out),
            "--workers",
            "2",
            "--quiet",
        ],
        start_new_session=True,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _first_report(out: Path) -> bool:
    return any(out.glob("20*/*.html"))


def _whole(out: Path) -> None:
    for page in out.glob("20*/*.html"):
        assert page.read_text(encoding="utf-8").rstrip().endswith("</html>"), page


@pytest.mark.parametrize("how", ["sigterm", "sigint"])
def test_a_stopped_render_records_what_finished_and_leaves_nothing(demo_db, tmp_path, how):
    out = tmp_path / "reports"
    proc = _start(demo_db, out)
    assert _wait(lambda: _first_report(out), 180), proc.stderr.read() if proc.poll() else ""
    ours = _kernels_of(proc.pid)
    assert ours  # the workers' warm kernels, which must not outlive the render
    proc.send_signal(signal.SIGTERM if how == "sigterm" else signal.SIGINT)
    started = time.monotonic()
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert time.monotonic() - started < 30  # within seconds, not after the whole batch
    assert "interrupted after" in err and "Traceback" not in err
    assert (out / "manifest.json").exists() and (out / "index.html").exists()
    assert "(interrupted)" in (out / "render.log").read_text(encoding="utf-8")
    assert _wait(lambda: not _in_session(proc.pid) and not ours & _kernels(), 20)
    _whole(out)


@pytest.mark.parametrize("target", ["parent", "group"])
def test_killing_render_outright_leaves_no_worker_and_no_kernel(demo_db, tmp_path, target):
    # kill -9 of the parent only (its workers must not live on), then of the whole group.
    out = tmp_path / "reports"
    proc = _start(demo_db, out)
    assert _wait(lambda: _first_report(out), 180)
    ours = _kernels_of(proc.pid)
    assert ours
    if target == "parent":
        os.kill(proc.pid, signal.SIGKILL)
    else:
        os.killpg(proc.pid, signal.SIGKILL)
    proc.communicate(timeout=30)
    assert _wait(lambda: not _in_session(proc.pid) and not ours & _kernels(), 30), (
        _in_session(proc.pid),
        ours & _kernels(),
    )
    _whole(out)
