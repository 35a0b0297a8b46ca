"""Erlang C: the seats a queue of calls needs to meet a service level.

The M/M/n queue (A. K. Erlang, 1917): calls arrive at random (Poisson) at ``calls_per_hour``, each
takes on average ``handle_seconds`` (talk plus after-call work), callers wait until a seat is free.
Offered traffic A = calls per hour × handle seconds / 3600 (Erlangs).

- Erlang B by the stable recursion B(0) = 1, B(n) = A·B(n−1) / (n + A·B(n−1)).
- Erlang C, the probability a call waits: C = n·B / (n − A·(1 − B)) for n > A, else 1.
- Service level, the share answered within t seconds: 1 − C·exp(−(n − A)·t / handle_seconds).
- Average speed of answer: C·handle_seconds / (n − A).

The tests check these against published tables and worked examples.
"""

from __future__ import annotations

import math


def traffic_erlangs(calls_per_hour: float, handle_seconds: float) -> float:
    """Offered traffic in Erlangs. Raises ``ValueError`` on negative input."""
    if calls_per_hour < 0 or handle_seconds < 0:
        raise ValueError("calls per hour and handle seconds must not be negative")
    return calls_per_hour * handle_seconds / 3600


def erlang_b(servers: int, traffic: float) -> float:
    """Probability that a call finds all ``servers`` busy, when blocked calls are lost."""
    if servers < 0 or traffic < 0:
        raise ValueError("servers and traffic must not be negative")
    b = 1.0
    for n in range(1, servers + 1):
        b = traffic * b / (n + traffic * b)
    return b


def erlang_c(servers: int, traffic: float) -> float:
    """Probability that a call waits (is queued) with ``servers`` seats and ``traffic`` Erlangs;
    1.0 when the seats cannot carry the traffic (servers ≤ traffic)."""
    if servers <= traffic:
        return 1.0
    b = erlang_b(servers, traffic)
    return servers * b / (servers - traffic * (1 - b))


def service_level(
    servers: int, traffic: float, handle_seconds: float, answer_within_seconds: float
) -> float:
    """Share 0–1 of calls answered within ``answer_within_seconds``; 0.0 when servers ≤ traffic."""
    if traffic == 0:
        return 1.0
    if servers <= traffic:
        return 0.0
    c = erlang_c(servers, traffic)
    return 1 - c * math.exp(-(servers - traffic) * answer_within_seconds / handle_seconds)


def average_speed_of_answer(servers: int, traffic: float, handle_seconds: float) -> float:
    """Mean wait in seconds over all calls; ``inf`` when servers ≤ traffic."""
    if traffic == 0:
        return 0.0
    if servers <= traffic:
        return math.inf
    return erlang_c(servers, traffic) * handle_seconds / (servers - traffic)


def seats_needed(
    calls_per_hour: float,
    handle_seconds: float,
    target_share: float = 0.8,
    answer_within_seconds: float = 20,
) -> int:
    """The fewest seats answering ``target_share`` of calls within ``answer_within_seconds``
    (the common 80 % in 20 s by default); 0 when no calls arrive.

    Raises ``ValueError`` for a target share outside (0, 1).
    """
    if not 0 < target_share < 1:
        raise ValueError(f"target share must be between 0 and 1 (not a percent): {target_share}")
    traffic = traffic_erlangs(calls_per_hour, handle_seconds)
    if traffic == 0:
        return 0
    n = max(1, math.floor(traffic) + 1)
    while service_level(n, traffic, handle_seconds, answer_within_seconds) < target_share:
        n += 1
    return n
