"""pyproject.toml and environment.yml pin the same packages at the same versions."""

from __future__ import annotations

import tomllib

import yaml
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from seatscore.core import config


def pins(requirements: list[str]) -> dict[str, str]:
    out = {}
    for line in requirements:
        req = Requirement(line)
        specs = list(req.specifier)
        assert len(specs) == 1 and specs[0].operator == "==", f"{line} is not pinned with =="
        out[canonicalize_name(req.name)] = specs[0].version
    return out


def test_pins_agree():
    project = tomllib.loads((config.ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    packaged = pins(project["dependencies"] + project["optional-dependencies"]["dev"])
    env = yaml.safe_load((config.ROOT / "environment.yml").read_text(encoding="utf-8"))
    pip_section = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict))
    conda = pins([line for line in pip_section if not line.startswith("-")])
    assert conda == packaged
