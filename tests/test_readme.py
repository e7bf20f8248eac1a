"""The README stays true: every setting is documented, the two commands are there, and its Python
examples work: each block loads, each handler succeeds on the catalogue's examples it binds, and
the tests it shows pass (run with hookq.testing)."""

from __future__ import annotations

import contextlib
import inspect
import re
import sys
import textwrap
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from pydantic import AliasChoices

from hookq.handlers.annotations import check_annotation
from hookq.handlers.api import HandlerSpec, spec_of
from hookq.settings import Settings, env_name
from hookq.sources.registry import PROVIDERS, settings_type, source_types
from hookq.testing import run_handler
from hookq.topology import topic_matches

README = (Path(__file__).resolve().parents[1] / "README.md").read_text()


def variables() -> list[str]:
    """Every environment variable hookq reads: its own settings and each provider's."""
    names = []
    for field, info in Settings.model_fields.items():
        if info.exclude:  # built from the providers' own settings, below
            continue
        alias = info.validation_alias
        names.append(str(alias.choices[0]) if isinstance(alias, AliasChoices) else env_name(field))
    for provider in PROVIDERS:
        names += [
            f"HOOKQ_{provider.upper()}_{f.upper()}" for f in settings_type(provider).model_fields
        ]
    return names


def test_every_setting_is_documented() -> None:
    missing = [name for name in variables() if f"`{name}`" not in README]
    assert missing == []


def test_the_two_commands() -> None:
    assert "docker compose up" in README
    assert "scripts/test" in README


# The README's Python: every block loads, every handler succeeds on the examples it binds, and
# the README's own tests of it pass, run through hookq.testing as a team's would be.

PYTHON_BLOCK = re.compile(r"^(?P<indent> *)```python\n(?P<code>.*?)^(?P=indent)```", re.M | re.S)
FILE_LINE = re.compile(r"# (?P<module>[a-z_][a-z0-9_]*)\.py\n")


@dataclass(frozen=True)
class Block:
    module: str  # what its first line names it: ``# billing_hooks.py``
    code: str
    line: int


def python_blocks() -> list[Block]:
    blocks = []
    for match in PYTHON_BLOCK.finditer(README):
        code = textwrap.dedent(match["code"])
        line = README.count("\n", 0, match.start()) + 1
        named = FILE_LINE.match(code)
        assert named, f"README line {line}: a Python block starts with '# <module>.py'"
        blocks.append(Block(named["module"], code, line))
    return blocks


@pytest.fixture
def readme_modules(monkeypatch: pytest.MonkeyPatch) -> dict[str, ModuleType]:
    """Every Python block, executed in order as the module its first line names (so that the
    test block imports the handler block, as a team's test imports its handler module)."""
    modules: dict[str, ModuleType] = {}
    for block in python_blocks():
        module = ModuleType(block.module)
        module.__file__ = f"README.md:{block.line}"
        monkeypatch.setitem(sys.modules, block.module, module)
        code = compile(block.code, f"README.md, line {block.line}", "exec")
        exec(code, module.__dict__)  # noqa: S102 - the README is this repository's own text
        modules[block.module] = module
    return modules


def readme_handlers(modules: dict[str, ModuleType]) -> list[HandlerSpec]:
    specs = {
        id(spec): spec for m in modules.values() for v in vars(m).values() if (spec := spec_of(v))
    }
    return list(specs.values())


def test_the_readme_has_a_handler_and_its_tests(readme_modules: dict[str, ModuleType]) -> None:
    blocks = python_blocks()
    defining = [b for b in blocks if "@handler(" in b.code]
    assert defining, "the README shows no handler"
    for block in defining:  # each block that defines a handler gives one (and discovery takes it)
        module = readme_modules[block.module]
        specs = [spec for v in vars(module).values() if (spec := spec_of(v))]
        assert specs, f"README line {block.line}: no handler found"
        for spec in specs:
            check_annotation(spec)
    assert any(name.startswith("test_") for name in readme_modules), "no tests in the README"


async def test_every_readme_handler_succeeds_on_every_example_it_binds(
    readme_modules: dict[str, ModuleType], postgres_url: str
) -> None:
    for spec in readme_handlers(readme_modules):
        bound = [
            (name, event_type)
            for name, source in source_types().items()
            for event_type in sorted(source.events)
            if any(topic_matches(p, f"{name}.{event_type}") for p in spec.patterns)
        ]
        assert bound, f"{spec.name}: binds no catalogued event type"
        for name, event_type in bound:
            async with readme_database(postgres_url, spec) as db:
                result = await run_handler(spec, name, event_type, db=db)
            assert result.done, f"{spec.name} on {name}.{event_type}: {result.outcome} {result}"


@contextlib.asynccontextmanager
async def readme_database(url: str, spec: HandlerSpec) -> AsyncIterator[Any]:
    """For a transactional handler, a connection in a transaction with the README's tables
    (rolled back after); None for the others."""
    if not spec.transactional:
        yield None
        return
    import asyncpg

    connection = await asyncpg.connect(url)
    try:
        transaction = connection.transaction()
        await transaction.start()
        await connection.execute("CREATE TEMP TABLE threads (id text PRIMARY KEY, title text)")
        yield connection
        await transaction.rollback()
    finally:
        await connection.close()


async def test_the_readme_tests_of_its_handler_pass(
    readme_modules: dict[str, ModuleType],
) -> None:
    ran = []
    for module_name, module in readme_modules.items():
        if not module_name.startswith("test_"):
            continue
        for name, test in vars(module).items():
            if not (name.startswith("test_") and inspect.iscoroutinefunction(test)):
                continue
            with pytest.MonkeyPatch.context() as monkeypatch:
                fixtures = {"monkeypatch": monkeypatch}
                wanted = list(inspect.signature(test).parameters)
                assert set(wanted) <= set(fixtures), f"{name} asks for {wanted}"
                await test(**{w: fixtures[w] for w in wanted})
            ran.append(name)
    assert len(ran) >= 3, ran
