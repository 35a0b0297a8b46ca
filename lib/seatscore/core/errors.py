"""One exception hierarchy. Every message says what was wrong, where, and what to do."""

from __future__ import annotations


class SeatscoreError(Exception):
    """Base of every error Seatscore raises on purpose."""


class InputError(SeatscoreError, ValueError):
    """A value the user gave is malformed or out of range (a month written 2018-5, a month
    outside the service period). Also a ``ValueError``, for callers that catch that."""


class ContractFileError(SeatscoreError):
    """A contract params file is unreadable or fails validation.

    The message names the file and each offending field (``posts.0.min_headcount.value``).
    """


class LedgerError(SeatscoreError):
    """A ledger file (staffing, deductions, tickets) is missing or has bad rows.

    The message names the file, the row (1-based, header is row 1) and the column.
    """


class CalendarNotAvailable(SeatscoreError):
    """The official working-day calendar for ``year`` is not known to Seatscore."""

    def __init__(self, message: str, year: int):
        super().__init__(message)
        self.year = year


class UnknownContract(SeatscoreError):
    """A contract id that no params file defines."""


class IngestError(LedgerError):
    """A file cannot be ingested as a ledger at all (unreadable, no header, an unknown column, a
    required column missing, a bad import profile); nothing was written. Row-level problems do
    not raise: those rows go to quarantine."""
