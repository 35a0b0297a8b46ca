"""Seatscore: what an outsourced citizen-hotline service contract delivers and what it costs.

Contract terms live as data in ``params/contracts/*.yaml`` (validated by :mod:`seatscore.contracts`);
ledgers load into DuckDB (:mod:`seatscore.db`); monthly scores and money come from
:mod:`seatscore.metrics`; :mod:`seatscore.render` turns the report notebook into HTML.
"""

__version__ = "0.1.0"
