import asyncio

import pytest

from swepipe import event_loop


async def loop_module() -> str:
    await asyncio.sleep(0)
    return type(asyncio.get_running_loop()).__module__


def test_runs_on_uvloop_when_installed(monkeypatch):
    pytest.importorskip("uvloop")
    monkeypatch.delenv("SWEPIPE_EVENT_LOOP", raising=False)
    assert event_loop.run(loop_module()).startswith("uvloop")


def test_the_standard_loop_can_be_chosen(monkeypatch):
    monkeypatch.setenv("SWEPIPE_EVENT_LOOP", "asyncio")
    assert event_loop.run(loop_module()).startswith("asyncio")
