"""Work a server process does while it runs: enforcing retention every few minutes."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

from fastapi import FastAPI
from starlette.concurrency import run_in_threadpool

from mayknow.bootstrap import Container

log = logging.getLogger("mayknow.retention")


async def _every(seconds: float, work: Callable[[], object]) -> None:
    while True:
        await asyncio.sleep(seconds)
        try:
            await run_in_threadpool(work)
        except Exception as exc:  # keep serving; the next round tries again
            log.warning("retention run failed: %s", type(exc).__name__)


def lifespan_for(
    container: Container,
) -> Callable[[FastAPI], contextlib.AbstractAsyncContextManager[None]]:
    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        # What start-up built (modules, routes, phone metadata, pydantic models) lives as
        # long as the process: moved out of the collector's sight, a full collection no
        # longer walks it, which kept the slowest requests waiting (bench/http).
        # The matching directory is built before the first request, as is a cache that a
        # server should not take traffic without.
        await run_in_threadpool(container.contacts.directory.build, container.uow)
        gc.collect()
        gc.freeze()
        minutes = container.settings.purge_interval_minutes
        task = None
        if minutes > 0:
            task = asyncio.create_task(_every(minutes * 60, container.retention.purge))
        yield
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    return lifespan
