"""Broker-side actions for tests, through ``rabbitmqctl`` (the local broker only).

``close_connections(name)`` makes the broker close every connection whose client-given
``connection_name`` is ``name``, as a broker restart or a network cut would look to the client:
a robust connection then reconnects by itself.
"""

from __future__ import annotations

import subprocess


def _rabbitmqctl(*args: str) -> str:
    done = subprocess.run(
        ["rabbitmqctl", "-q", *args], capture_output=True, text=True, timeout=60, check=True
    )
    return done.stdout


def connection_pids(name: str) -> list[str]:
    marker = f'{{"connection_name","{name}"}}'
    return [
        line.split("\t", 1)[0]
        for line in _rabbitmqctl("list_connections", "pid", "client_properties").splitlines()
        if marker in line
    ]


def close_connections(name: str, reason: str = "closed by a test") -> int:
    """Close the connections named ``name``; returns how many there were."""
    pids = connection_pids(name)
    for pid in pids:
        _rabbitmqctl("close_connection", pid, reason)
    return len(pids)
