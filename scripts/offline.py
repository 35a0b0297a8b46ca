"""Seatscore where there is no package index: build a wheelhouse, install from it, upgrade.

Three commands, standard library only (``install`` and ``upgrade`` run before any environment
exists, with the system's Python)::

    python3 scripts/offline.py wheelhouse [--python 3.11] [--out dist]   # needs PyPI
    python3 scripts/offline.py install WHEELHOUSE                        # needs no network
    python3 scripts/offline.py upgrade ARCHIVE                           # needs no network

``make wheelhouse``, ``make install-offline WHEELHOUSE=DIR`` and ``make upgrade-offline
ARCHIVE=FILE`` call them. ``docs/how-to/install-intranet.md`` is the page a person follows.

The wheelhouse holds Seatscore's own wheel and a wheel of every package it needs (the pins of
``pyproject.toml``, with the development tools that ``make test`` uses, and everything they need,
resolved once) for CPython ``--python`` on Linux x86-64 and aarch64 (manylinux, glibc 2.28 or
newer: Kylin V10, UOS 20, openEuler 20.03 and Debian 10 onwards). ``requirements.txt`` pins each
package exactly with the SHA-256 of each of its wheels (pip's hash-checking mode); ``SHA256SUMS``
lists every file. The archive ``dist/seatscore-<version>-offline.tar.gz`` is the project's
committed files (params, notebooks, tests, docs), the wheelhouse, and ``RELEASE-FILES.sha256``,
which lets the next upgrade tell a file the user changed from one the release shipped.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PLATFORMS = ("x86_64", "aarch64")
"""Target machines (``uname -m``)."""
GLIBC_MINOR = 28
"""The oldest glibc a target may have: 2.28 (Kylin V10, UOS 20, openEuler 20.03)."""


def platform_tags(machine: str) -> list[str]:
    """Every manylinux tag a machine with glibc 2.:data:`GLIBC_MINOR` accepts, newest first.

    pip's ``--platform`` takes tags literally (it widens only the legacy ``manylinux2014``), so
    each glibc version is named."""
    tags = [f"manylinux_2_{minor}_{machine}" for minor in range(GLIBC_MINOR, 16, -1)]
    return [*tags, f"manylinux2014_{machine}"]


RELEASE_FILES = "RELEASE-FILES.sha256"
USER_FOLDERS = ("params/",)
"""Files a district edits (contract params, profiles, scenarios): an upgrade never overwrites a
changed one. ``data/`` and ``reports/`` are not in a release at all, so an upgrade leaves them."""
WHEEL = re.compile(
    r"^(?P<name>[^-]+)-(?P<version>[^-]+)(-\d[^-]*)?-[^-]+-[^-]+-(?P<plat>[^-]+)\.whl$"
)


class OfflineError(Exception):
    """A step failed in a way the person running it can act on; the message says how."""


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def normalise(name: str) -> str:
    """A distribution name as PEP 503 compares them."""
    return re.sub(r"[-_.]+", "-", name).lower()


def project_version(root: Path = ROOT) -> str:
    with (root / "pyproject.toml").open("rb") as f:
        return tomllib.load(f)["project"]["version"]


def _run(command: list[str], **kwargs) -> None:
    print("+ " + " ".join(command), flush=True)
    subprocess.run(command, check=True, **kwargs)


# -- wheelhouse ---------------------------------------------------------------------------------


def _download(pip: list[str], house: Path, python: str, machine: str, args: list[str]) -> None:
    platforms = [arg for tag in platform_tags(machine) for arg in ("--platform", tag)]
    _run(
        [
            *pip,
            "download",
            "--only-binary=:all:",
            *platforms,
            "--python-version",
            python,
            "--implementation",
            "cp",
            "--abi",
            "cp" + python.replace(".", ""),
            "--dest",
            str(house),
            *args,
        ]
    )


def wheels_by_pin(house: Path) -> dict[tuple[str, str], list[Path]]:
    """The wheels of a folder grouped by (normalised name, version)."""
    pins: dict[tuple[str, str], list[Path]] = {}
    for path in sorted(house.glob("*.whl")):
        m = WHEEL.match(path.name)
        if not m:
            raise OfflineError(f"{path.name}: not a wheel file name")
        pins.setdefault((normalise(m["name"]), m["version"]), []).append(path)
    return pins


def _covers(paths: list[Path], machine: str) -> bool:
    return any(
        p.name.endswith("-any.whl") or WHEEL.match(p.name)["plat"].endswith(machine) for p in paths
    )


def write_requirements(house: Path, python: str) -> Path:
    """``requirements.txt``: every package of the folder pinned exactly, with the SHA-256 of each
    of its wheels. Raises :class:`OfflineError` when a package lacks a wheel for a platform."""
    lines = [
        f"# Seatscore offline requirements: CPython {python}, Linux " + " and ".join(PLATFORMS),
        "# pip install --no-index --find-links . --require-hashes -r requirements.txt",
    ]
    missing = []
    for (name, version), paths in sorted(wheels_by_pin(house).items()):
        missing += [f"{name}=={version} ({m})" for m in PLATFORMS if not _covers(paths, m)]
        hashes = " ".join(f"--hash=sha256:{sha256(p)}" for p in paths)
        lines.append(f"{name}=={version} {hashes}")
    if missing:
        raise OfflineError("no wheel for " + ", ".join(missing))
    out = house / "requirements.txt"
    out.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return out


def write_sums(folder: Path) -> Path:
    """``SHA256SUMS`` in ``sha256sum`` format: every file of the folder but itself."""
    out = folder / "SHA256SUMS"
    rows = [f"{sha256(p)}  {p.name}" for p in sorted(folder.iterdir()) if p.is_file() and p != out]
    out.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return out


def release_manifest(tree: Path) -> dict[str, str]:
    """Path (relative, POSIX) → SHA-256 of every file under ``tree``."""
    return {
        p.relative_to(tree).as_posix(): sha256(p)
        for p in sorted(tree.rglob("*"))
        if p.is_file() and p.name != RELEASE_FILES
    }


def write_manifest(manifest: dict[str, str], path: Path) -> None:
    path.write_text("".join(f"{h}  {name}\n" for name, h in manifest.items()), encoding="utf-8")


def read_manifest(path: Path) -> dict[str, str]:
    if not path.exists():
        return {}
    out = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        digest, _, name = line.partition("  ")
        out[name] = digest
    return out


def wheelhouse(out: Path, python: str) -> Path:
    """Build ``out/wheelhouse`` and ``out/seatscore-<version>-offline.tar.gz``; returns the archive.

    Needs PyPI. Resolves ``seatscore[dev]`` once, for x86-64, then fetches the same versions for
    aarch64, so both machines install exactly the same pins.
    """
    version = project_version()
    house = out / "wheelhouse"
    if house.exists():
        shutil.rmtree(house)
    house.mkdir(parents=True)
    archive = out / f"seatscore-{version}-offline.tar.gz"
    prefix = f"seatscore-{version}"
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check"]
    with tempfile.TemporaryDirectory() as tmp:
        # The committed tree (git archive), not the working folder: the wheel and the archive
        # hold what HEAD holds, and building leaves no build/ folder in the checkout.
        tree = Path(tmp) / prefix
        tree.mkdir()
        git_tar = Path(tmp) / "src.tar"
        _run(["git", "-C", str(ROOT), "archive", "--format=tar", "-o", str(git_tar), "HEAD"])
        with tarfile.open(git_tar) as src:
            src.extractall(tree, filter="data")
        git_tar.unlink()
        write_manifest(release_manifest(tree), tree / RELEASE_FILES)
        build = Path(tmp) / "build"
        shutil.copytree(tree, build)
        _run([*pip, "wheel", "--no-deps", "--wheel-dir", str(house), str(build)])
        own = next(house.glob("seatscore-*.whl"))
        _download(pip, house, python, "x86_64", [f"seatscore[dev] @ {own.as_uri()}"])
        pins = house / "pins.txt"
        pins.write_text(
            "".join(f"{n}=={v}\n" for (n, v) in wheels_by_pin(house) if n != "seatscore"),
            encoding="utf-8",
        )
        _download(pip, house, python, "aarch64", ["--no-deps", "-r", str(pins)])
        pins.unlink()
        (house / "PYTHON").write_text(python + "\n", encoding="utf-8")
        write_requirements(house, python)
        write_sums(house)
        with tarfile.open(archive, "w:gz") as tar:
            tar.add(tree, arcname=prefix)
            tar.add(house, arcname=f"{prefix}/wheelhouse")
    print(f"wrote {house} ({len(list(house.glob('*.whl')))} wheels) and {archive}")
    return archive


# -- install ------------------------------------------------------------------------------------


def check_sums(house: Path) -> None:
    """Every file ``SHA256SUMS`` lists is there with that hash, and every wheel is listed.

    Raises :class:`OfflineError` naming the first file that differs: the wheelhouse was damaged
    or changed on the way in; carry it in again."""
    sums = house / "SHA256SUMS"
    if not sums.exists():
        raise OfflineError(f"{sums}: missing; is {house} a Seatscore wheelhouse (make wheelhouse)?")
    listed = {}
    for line in sums.read_text(encoding="utf-8").splitlines():
        digest, _, name = line.partition("  ")
        listed[name] = digest
        path = house / name
        if not path.exists():
            raise OfflineError(f"{path}: listed in SHA256SUMS but missing; copy the folder again")
        if sha256(path) != digest:
            raise OfflineError(f"{path}: its SHA-256 differs from SHA256SUMS; copy it again")
    extra = sorted(p.name for p in house.glob("*.whl") if p.name not in listed)
    if extra:
        raise OfflineError(f"{house}: wheels not in SHA256SUMS: {', '.join(extra)}")


def offline_env() -> dict[str, str]:
    """The environment for pip: no configuration file (a machine's own index or find-links must
    not count), no index, no version check."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PIP_")}
    env.update(PIP_CONFIG_FILE=os.devnull, PIP_NO_INDEX="1", PIP_DISABLE_PIP_VERSION_CHECK="1")
    return env


def install(house: Path, root: Path = ROOT, venv: Path | None = None) -> None:
    """Create ``root/.venv`` from ``house`` alone: check the hashes, install every wheel in
    pip's hash-checking mode, register the Jupyter kernel, and mark the environment installed
    for ``make``. Raises :class:`OfflineError` for a damaged wheelhouse or another Python."""
    house = house.resolve()
    venv = venv or root / ".venv"
    check_sums(house)
    wanted = (house / "PYTHON").read_text(encoding="utf-8").strip()
    running = f"{sys.version_info.major}.{sys.version_info.minor}"
    if wanted != running:
        raise OfflineError(
            f"{house} holds wheels for Python {wanted}; this is Python {running}. Run it with "
            f"python{wanted} (make install-offline PYTHON=python{wanted}), or build a wheelhouse "
            f"for {running}: make wheelhouse PY={running}"
        )
    _run([sys.executable, "-m", "venv", "--clear", str(venv)])
    python = str(venv / "bin" / "python")
    env = offline_env()
    _run(
        [
            python,
            "-m",
            "pip",
            "install",
            "--no-index",
            "--find-links",
            str(house),
            "--require-hashes",
            "--requirement",
            str(house / "requirements.txt"),
        ],
        env=env,
    )
    _run([python, "-m", "ipykernel", "install", "--sys-prefix", "--name", "python3"], env=env)
    (venv / ".installed").touch()
    print(f"installed Seatscore into {venv} from {house}; next: make reports")


# -- upgrade ------------------------------------------------------------------------------------


def merge_release(root: Path, new_tree: Path) -> list[str]:
    """Put the release unpacked in ``new_tree`` in place of the one in ``root``; returns what a
    person should know (files kept because they changed them).

    A file under ``params/`` the user changed (its hash differs from the old release's) is kept
    and the release's copy written beside it as ``<name>.release``; a new one is added; an
    unchanged one is replaced. Every other file of the release replaces the old one; a file the
    old release had and the new one has not is removed unless the user changed it. Files in no
    release (``data/``, ``reports/``, ``.venv/``, the user's own params) are not touched.
    """
    old = read_manifest(root / RELEASE_FILES)
    new = release_manifest(new_tree)
    notes = []
    for name, digest in new.items():
        target = root / name
        user_file = name.startswith(USER_FOLDERS)
        if target.exists() and user_file:
            current = sha256(target)
            if current == digest:
                continue
            if old.get(name) != current:
                shutil.copy2(new_tree / name, target.with_name(target.name + ".release"))
                notes.append(
                    f"kept your {name}; the release's copy is {name}.release (compare and merge)"
                )
                continue
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(new_tree / name, target)
    for name, digest in old.items():
        target = root / name
        if name in new or not target.exists():
            continue
        if sha256(target) == digest:
            target.unlink()
        else:
            notes.append(f"kept your {name}; the new release no longer has it")
    write_manifest(new, root / RELEASE_FILES)
    return notes


def upgrade(archive: Path, root: Path = ROOT) -> int:
    """Upgrade the installation in ``root`` to ``archive`` (another offline archive): check it,
    merge its files (:func:`merge_release`), install its wheelhouse into a fresh ``.venv`` (the old
    one is restored if that fails), and say whether ``seatscore build`` must run again.

    Returns 0 once upgraded; whether the database needs ``make build`` is the last thing said
    (the upgrade itself succeeded either way)."""
    archive = archive.resolve()
    with tempfile.TemporaryDirectory(dir=root) as tmp:
        with tarfile.open(archive) as tar:
            tar.extractall(tmp, filter="data")
        (release,) = [p for p in Path(tmp).iterdir() if p.is_dir()]
        check_sums(release / "wheelhouse")
        house = root / "wheelhouse"
        if house.exists():
            shutil.rmtree(house)
        shutil.move(release / "wheelhouse", house)
        (release / RELEASE_FILES).unlink(missing_ok=True)
        notes = merge_release(root, release)
    venv, kept = root / ".venv", root / ".venv.previous"
    if venv.exists():
        if kept.exists():
            shutil.rmtree(kept)
        venv.rename(kept)
    try:
        install(house, root)
    except BaseException:
        if venv.exists():
            shutil.rmtree(venv)
        if kept.exists():
            kept.rename(venv)
        raise
    if kept.exists():
        shutil.rmtree(kept)
    for note in notes:
        print(note)
    database = root / "data" / "seatscore.duckdb"
    if not database.exists():
        print("no database yet: make reports builds it")
        return 0
    done = subprocess.run(
        [str(venv / "bin" / "seatscore"), "build", "--check", "--db", str(database)],
        cwd=root,
        env={**os.environ, "SEATSCORE_ROOT": str(root)},
    )
    if done.returncode == 1:
        print("upgraded; next: make build (contracts and demo data again; ingested rows are kept)")
    elif done.returncode == 0:
        print("upgraded; the database is current")
    else:
        print("upgraded; `seatscore build --check` failed: run `make build` before rendering")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="offline.py", description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    build = sub.add_parser("wheelhouse", help="write dist/wheelhouse and the offline archive")
    build.add_argument("--python", default="3.11", help="CPython version (default 3.11)")
    build.add_argument("--out", type=Path, default=ROOT / "dist", help="output folder")
    inst = sub.add_parser("install", help="create .venv from a wheelhouse, with no network")
    inst.add_argument("wheelhouse", type=Path)
    upg = sub.add_parser("upgrade", help="upgrade this folder to another offline archive")
    upg.add_argument("archive", type=Path)
    args = parser.parse_args(argv)
    try:
        if args.command == "wheelhouse":
            wheelhouse(args.out, args.python)
        elif args.command == "install":
            install(args.wheelhouse)
        else:
            return upgrade(args.archive)
    except OfflineError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except subprocess.CalledProcessError as exc:
        print(f"error: {' '.join(exc.cmd)} failed (exit {exc.returncode})", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
