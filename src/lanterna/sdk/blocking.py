"""The blocking flavour of an async object, method by method: ``status = blocking(AsyncX.status)``.

A blocking object (``Session``, ``Agent``, ``client.sessions``, ...) holds the async object it
stands for as ``core`` and its client's ``context``. ``blocking`` makes a method that runs the
core's coroutine to its end on the client's loop; ``awaiting`` makes its ``a``-prefixed async
twin. Both keep the core method's signature and docstring, so typing and help stay exact.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Coroutine
from typing import Any, Concatenate, ParamSpec, Protocol, TypeVar

from lanterna.sdk.api import Context

P = ParamSpec("P")
T = TypeVar("T")


class Blocking(Protocol):
    """What ``blocking``/``awaiting`` methods need of their object."""

    @property
    def context(self) -> Context: ...
    @property
    def core(self) -> Any: ...


def blocking(
    method: Callable[Concatenate[Any, P], Coroutine[Any, Any, T]],
) -> Callable[Concatenate[Any, P], T]:
    """A method that blocks on the core's ``method`` (by name, so subclasses' overrides count)."""
    name = method.__name__

    @functools.wraps(method)
    def call(self: Blocking, /, *args: P.args, **kwargs: P.kwargs) -> T:
        return self.context.block(getattr(self.core, name)(*args, **kwargs))

    return call


def awaiting(
    method: Callable[Concatenate[Any, P], Coroutine[Any, Any, T]],
) -> Callable[Concatenate[Any, P], Coroutine[Any, Any, T]]:
    """An async method that awaits the core's ``method`` where the client does its I/O."""
    name = method.__name__

    @functools.wraps(method)
    async def call(self: Blocking, /, *args: P.args, **kwargs: P.kwargs) -> T:
        return await self.context.run(getattr(self.core, name)(*args, **kwargs))

    return call
