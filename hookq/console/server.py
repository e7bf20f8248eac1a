"""``hookq console``: serve the console until SIGTERM or SIGINT."""

from __future__ import annotations

import asyncio
import signal

import structlog
from aiohttp import web

from hookq.console import access
from hookq.console.app import build_console, create_app
from hookq.listen import listen
from hookq.settings import Settings, SettingsError, env_name

log = structlog.get_logger("hookq.console")


async def serve(settings: Settings) -> None:
    access.require(settings)  # no token, not marked insecure: SettingsError, exit 2
    console = build_console(settings)
    if console.operators.insecure:
        log.warning(
            f"INSECURE CONSOLE: no {env_name('console_tokens')}, anyone who reaches "
            f"port {settings.console_port} can replay and purge dead letters "
            f"({env_name('console_insecure')}); for local use only, never in production"
        )
    if not settings.console_secret:
        log.info(
            f"console sessions signed with a key of this process ({env_name('console_secret')} "
            "not set): logins end when it restarts"
        )
    runner = web.AppRunner(create_app(console), access_log=None, handle_signals=False)
    await runner.setup()
    try:
        await listen(runner, settings.console_host, settings.console_port, "HOOKQ_CONSOLE_PORT")
    except SettingsError:
        await runner.cleanup()
        raise
    await console.sampler.start()
    log.info(
        "console listening",
        port=settings.console_port,
        handlers=list(console.specs),
        operators=len(settings.console_tokens),
    )
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    log.info("console stopping")
    await runner.cleanup()
    await console.sampler.stop()
