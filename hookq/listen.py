"""Binding a listening port before anything else starts, with a message that names the setting."""

from __future__ import annotations

import errno

from aiohttp import web

from hookq.settings import SettingsError


async def listen(
    runner: web.AppRunner, host: str, port: int, variable: str, **options: int
) -> web.TCPSite:
    """Start ``runner`` on ``host:port``; ``SettingsError`` (exit 2) names ``variable`` when the
    port cannot be had, so a process fails at once instead of after its connections."""
    site = web.TCPSite(runner, host, port, **options)  # type: ignore[arg-type]
    try:
        await site.start()
    except OSError as exc:
        reason = "in use" if exc.errno == errno.EADDRINUSE else (exc.strerror or str(exc))
        raise SettingsError(f"{variable}: cannot listen on {host}:{port}: {reason}") from None
    return site
