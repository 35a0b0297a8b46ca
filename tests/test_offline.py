"""The offline install (docs/install-intranet.md): the wheelhouse's checks, an upgrade that keeps
what the district changed, and `seatscore build --check`.

The whole path (wheelhouse, install with the network cut, render) runs in CI (.ci/run): it needs
PyPI and root, which a test does not have.
"""

from __future__ import annotations

import hashlib
import importlib.util
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from seatscore.core import config
from seatscore.ledgers import store as db
from seatscore.terms.contract_files import load_contracts

ROOT = Path(__file__).resolve().parents[1]


def _offline():
    spec = importlib.util.spec_from_file_location("offline", ROOT / "scripts" / "offline.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules["offline"] = module
    spec.loader.exec_module(module)
    return module


offline = _offline()


def _release(folder: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(text, encoding="utf-8")
    return folder


def test_platform_tags_name_every_glibc_from_2_28_down():
    # pip takes --platform literally, so a wheel tagged manylinux_2_17 (fastexcel 0.21.0) is
    # found only if 2_17 is named: 2_28 … 2_17 is 12 tags, then the legacy alias.
    tags = offline.platform_tags("aarch64")
    assert tags[0] == "manylinux_2_28_aarch64"
    assert tags[11] == "manylinux_2_17_aarch64"
    assert tags[-1] == "manylinux2014_aarch64"
    assert len(tags) == 13


def test_requirements_pin_every_wheel_with_its_hash_and_refuse_a_missing_platform(tmp_path):
    house = tmp_path / "wheelhouse"
    house.mkdir()
    (house / "polars-2.1.0-cp39-abi3-manylinux_2_17_x86_64.whl").write_bytes(b"x86")
    (house / "polars-2.1.0-cp39-abi3-manylinux_2_17_aarch64.whl").write_bytes(b"arm")
    (house / "PyYAML-6.0.3-py3-none-any.whl").write_bytes(b"any")
    text = offline.write_requirements(house, "3.11").read_text()
    x86 = hashlib.sha256(b"x86").hexdigest()  # the wheels' bytes, hashed independently
    arm = hashlib.sha256(b"arm").hexdigest()
    assert f"polars==2.1.0 --hash=sha256:{arm} --hash=sha256:{x86}" in text
    assert "pyyaml==6.0.3 --hash=sha256:" in text  # name as pip compares it
    (house / "duckdb-2.0.0-cp311-cp311-manylinux_2_28_x86_64.whl").write_bytes(b"only x86")
    with pytest.raises(offline.OfflineError, match=r"duckdb==2\.0\.0 \(aarch64\)"):
        offline.write_requirements(house, "3.11")


def test_a_changed_or_unlisted_wheel_is_refused_before_anything_is_installed(tmp_path):
    house = tmp_path / "wheelhouse"
    house.mkdir()
    wheel = house / "cn2an-0.5.24-py3-none-any.whl"
    wheel.write_bytes(b"wheel")
    offline.write_sums(house)
    offline.check_sums(house)  # as written: accepted
    wheel.write_bytes(b"damaged on the way in")
    with pytest.raises(
        offline.OfflineError, match=r"cn2an-0\.5\.24-py3-none-any\.whl: its SHA-256"
    ):
        offline.check_sums(house)
    offline.write_sums(house)
    (house / "extra-1.0-py3-none-any.whl").write_bytes(b"smuggled")
    with pytest.raises(offline.OfflineError, match=r"wheels not in SHA256SUMS: extra-1\.0"):
        offline.check_sums(house)


def test_install_refuses_a_wheelhouse_for_another_python(tmp_path):
    house = tmp_path / "wheelhouse"
    house.mkdir()
    (house / "PYTHON").write_text("3.9\n")
    offline.write_sums(house)
    with pytest.raises(offline.OfflineError, match=r"wheels for Python 3\.9; this is Python 3\."):
        offline.install(house, tmp_path)
    assert not (tmp_path / ".venv").exists()


def test_an_upgrade_keeps_data_reports_and_the_params_a_district_changed(tmp_path):
    v1 = {
        "lib/seatscore/a.py": "v1 code",
        "lib/seatscore/gone.py": "removed in v2",
        "params/contracts/x.yaml": "x v1",
        "params/contracts/y.yaml": "y v1",
        "params/profiles/old.yaml": "dropped in v2",
    }
    v2 = {
        "lib/seatscore/a.py": "v2 code",
        "params/contracts/x.yaml": "x v2",
        "params/contracts/y.yaml": "y v2",
        "params/contracts/z.yaml": "z new in v2",
    }
    root = _release(tmp_path / "install", v1)
    offline.write_manifest(offline.release_manifest(root), root / offline.RELEASE_FILES)
    # The district edits y, adds its own contract, has a database and reports.
    (root / "params/contracts/y.yaml").write_text("y edited by the district")
    _release(root, {"params/contracts/own.yaml": "own", "data/seatscore.duckdb": "db"})
    _release(root, {"reports/2026-10/x.html": "report"})
    notes = offline.merge_release(root, _release(tmp_path / "v2", v2))

    read = {p: (root / p).read_text() for p in [*v2, "params/contracts/own.yaml"]}
    assert read["lib/seatscore/a.py"] == "v2 code"
    assert read["params/contracts/x.yaml"] == "x v2"  # unchanged by the district: updated
    assert read["params/contracts/y.yaml"] == "y edited by the district"
    assert (root / "params/contracts/y.yaml.release").read_text() == "y v2"
    assert read["params/contracts/z.yaml"] == "z new in v2"
    assert read["params/contracts/own.yaml"] == "own"
    assert not (root / "lib/seatscore/gone.py").exists()
    assert not (root / "params/profiles/old.yaml").exists()
    assert (root / "data/seatscore.duckdb").read_text() == "db"
    assert (root / "reports/2026-10/x.html").read_text() == "report"
    assert notes == [
        "kept your params/contracts/y.yaml; the release's copy is "
        "params/contracts/y.yaml.release (compare and merge)"
    ]
    # The next upgrade compares with v2, as shipped.
    manifest = offline.read_manifest(root / offline.RELEASE_FILES)
    assert manifest["params/contracts/y.yaml"] == offline.sha256(
        tmp_path / "v2/params/contracts/y.yaml"
    )


def test_build_check_names_what_makes_a_build_necessary(tmp_path):
    contracts_dir = tmp_path / "contracts"
    shutil.copytree(config.CONTRACTS_DIR, contracts_dir)
    database = tmp_path / "seatscore.duckdb"
    contracts = load_contracts(contracts_dir)
    db.build(database, contracts, demo_dir=None, contracts_dir=contracts_dir)
    with db.connect(database, read_only=True) as con:
        assert db.rebuild_reasons(con, contracts, contracts_dir) == []

    params = contracts_dir / "haidian-hotline-2022.yaml"
    params.write_text(params.read_text(encoding="utf-8") + "\n# a comment\n", encoding="utf-8")
    with db.connect(database) as con:
        con.execute("ALTER TABLE posts ADD COLUMN shift_note VARCHAR")
    with db.connect(database, read_only=True) as con:
        reasons = db.rebuild_reasons(con, load_contracts(contracts_dir), contracts_dir)
    assert reasons == [
        "table posts has the columns of another Seatscore version",
        f"{params} changed since the last build",
    ]

    done = subprocess.run(
        [sys.executable, "-m", "seatscore.cli", "build", "--check", "--db", str(database)],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert done.returncode == 1
    assert "run `seatscore build` again" in done.stdout
    assert "table posts has the columns of another Seatscore version" in done.stdout
