"""Serving one WebSocket with a sender and a listener: whichever ends first ends both."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Coroutine
from typing import Any

from fastapi import WebSocket
from starlette.websockets import WebSocketDisconnect, WebSocketState


async def serve_until_either_ends(
    websocket: WebSocket,
    sender: Coroutine[Any, Any, None],
    listener: Coroutine[Any, Any, None],
    *,
    close_reason: str,
    close_code: int = 1000,
) -> None:
    """Run ``sender`` and ``listener`` until one returns, cancel the other, then close normally.

    A client gone mid-send is ordinary; anything else was logged where it happened."""
    await until_first_ends(sender, listener)
    if websocket.client_state == WebSocketState.CONNECTED:
        with contextlib.suppress(RuntimeError, WebSocketDisconnect):
            await websocket.close(code=close_code, reason=close_reason)


async def until_first_ends(*work: Coroutine[Any, Any, None]) -> None:
    """Run ``work`` concurrently until one returns or raises, then cancel and await the rest.

    What each raised was logged where it happened; here it only ends the others."""
    tasks = {asyncio.create_task(w) for w in work}
    try:
        await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
