"""Reading contract params files (``params/contracts/<contract_id>.yaml``): the schema of
:mod:`seatscore.terms.contracts`, then the engine's own check that it can score every rule.

A params file whose rule kind has no points function (:mod:`seatscore.terms.rule_kinds`) is
refused when it is loaded, naming the file and the rule.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import ValidationError

from seatscore.core import config
from seatscore.core.errors import ContractFileError, UnknownContract
from seatscore.core.files import read_yaml_document
from seatscore.terms.contracts import Contract
from seatscore.terms.rule_kinds import unevaluable


def _format_validation_error(path: Path, error: ValidationError) -> str:
    lines = [f"{path}: {error.error_count()} problem(s) in the contract params file"]
    for problem in error.errors():
        field = ".".join(str(part) for part in problem["loc"]) or "(top level)"
        lines.append(f"  - field {field}: {problem['msg']}")
    lines.append("Fix the file (docs/reference/params.md lists the fields) and run again.")
    return "\n".join(lines)


def load_contract(path: Path | str) -> Contract:
    """Read and validate one params file.

    Raises
    ------
    ContractFileError
        The file is missing, is not YAML, or fails validation; the message names the file and
        every offending field; a rule item's kind has no points function in the engine
        (:mod:`seatscore.terms.rule_kinds`); or the contract id does not match the file name.
    """
    path = Path(path)
    raw = read_yaml_document(path, ContractFileError)
    if not isinstance(raw, dict):
        raise ContractFileError(f"{path}: expected a mapping of contract terms at the top level")
    try:
        contract = Contract.model_validate(raw)
    except ValidationError as exc:
        raise ContractFileError(_format_validation_error(path, exc)) from exc
    assessment = contract.assessment.value
    missing = unevaluable(assessment.items) if assessment is not None else []
    if missing:
        raise ContractFileError(
            f"{path}: {len(missing)} rule(s) the engine cannot evaluate, so they would score "
            "nothing:\n"
            + "\n".join(f"  - {u}" for u in missing)
            + "\nGive each its points function, or change its kind."
        )
    if contract.contract_id != path.stem:
        raise ContractFileError(
            f"{path}: field contract_id is {contract.contract_id!r} but the file is named "
            f"{path.name!r}; name the file <contract_id>.yaml"
        )
    return contract


def load_contracts(directory: Path | str | None = None) -> dict[str, Contract]:
    """Every ``*.yaml`` in ``directory`` (default ``params/contracts``), keyed by contract id."""
    directory = Path(directory) if directory is not None else config.CONTRACTS_DIR
    files = sorted(directory.glob("*.yaml"))
    if not files:
        raise ContractFileError(f"{directory}: no contract params files (*.yaml) found")
    return {c.contract_id: c for c in (load_contract(f) for f in files)}


def get_contract(contract_id: str, directory: Path | str | None = None) -> Contract:
    """One contract by id, from ``directory`` (default: ``params/contracts``, then the public
    sources of ``params/public``, which ``seatscore ingest`` registers with their data). Raises
    :class:`UnknownContract` naming the ids that exist."""
    directories = [Path(directory)] if directory is not None else [config.CONTRACTS_DIR]
    if directory is None and config.PUBLIC_PARAMS_DIR.is_dir():
        directories.append(config.PUBLIC_PARAMS_DIR)
    known: list[str] = []
    for folder in directories:
        path = folder / f"{contract_id}.yaml"
        if path.exists():
            return load_contract(path)
        known += sorted(p.stem for p in folder.glob("*.yaml"))
    raise UnknownContract(f"no contract {contract_id!r}; known contracts: {', '.join(known)}")
