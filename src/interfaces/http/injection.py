"""Dishka injection into Litestar handlers, resolved from the APP container.

Every dependency of the handlers lives as long as the process (use cases, ports, telemetry), so
the per-request scope that `dishka.integrations.litestar.setup_dishka` opens around each request
would only cost time: a second Request object and a child container per call, on the hot path.
Handlers keep `FromDishka[...]` parameters and read them from the application's container.
"""

from collections.abc import Callable
from inspect import Parameter
from typing import ParamSpec, TypeVar, get_type_hints

from dishka import AsyncContainer
from dishka.integrations.base import wrap_injection
from litestar import Litestar, Request

P = ParamSpec("P")
T = TypeVar("T")


def inject(func: Callable[P, T]) -> Callable[P, T]:
    hints = get_type_hints(func)
    extra = [] if "request" in hints else [Parameter("request", Parameter.KEYWORD_ONLY, annotation=Request)]
    return wrap_injection(
        func=func,
        is_async=True,
        additional_params=extra,
        container_getter=lambda _, kwargs: kwargs["request"].app.state.dishka_container,
    )


def attach_container(container: AsyncContainer, app: Litestar) -> None:
    app.state.dishka_container = container
