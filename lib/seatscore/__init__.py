"""Seatscore: what an outsourced citizen-hotline service contract delivers and what it costs.

Contract terms live as data in ``params/contracts/*.yaml`` (validated by :mod:`seatscore.terms.contracts`);
ledgers load into DuckDB (:mod:`seatscore.ledgers.store`); monthly scores and money come from
:mod:`seatscore.compute.metrics`; :mod:`seatscore.batch.render` turns the report notebook into HTML.
"""

__version__ = "0.1.0"
