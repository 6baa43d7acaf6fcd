"""The Redis clients with a span per command or pipeline: chosen instead of the plain ones when tracing is on."""

from __future__ import annotations

from typing import Any

from opentelemetry import trace
from redis.asyncio.client import Pipeline

from infrastructure.limits.redis import ObservedRedis
from infrastructure.limits.resp import Reply, RespPipeline
from infrastructure.telemetry.redis_spans import RedisSpans


def _operation(command: Any) -> str:
    name = command.decode() if isinstance(command, bytes) else str(command)
    return name.upper()


def spans_of(client: Any, tracer: trace.Tracer) -> RedisSpans:
    kwargs = client.connection_pool.connection_kwargs
    address = kwargs.get("host") or kwargs.get("path") or ""  # a unix socket has a path
    return RedisSpans(tracer, address, kwargs.get("port") or 0, kwargs.get("db") or 0)


class TracedRespPipeline(RespPipeline):
    def __init__(self, url: str, tracer: trace.Tracer, **kwargs: Any) -> None:
        super().__init__(url, **kwargs)
        self._spans = RedisSpans(tracer, self._host, self._port, self._db)

    async def call(self, *args: bytes | str | int) -> Reply:
        return await self._spans.around(_operation(args[0]), lambda: RespPipeline.call(self, *args))


class TracedRedis(ObservedRedis):
    spans: RedisSpans  # set by `redis_client`

    async def execute_command(self, *args: Any, **options: Any) -> Any:
        run = ObservedRedis.execute_command
        return await self.spans.around(_operation(args[0]), lambda: run(self, *args, **options))

    def pipeline(self, transaction: bool = True, shard_hint: str | None = None) -> Pipeline:
        pipe = _TracedPipeline(self.connection_pool, self.response_callbacks, transaction, shard_hint)
        pipe.spans = self.spans
        return pipe


class _TracedPipeline(Pipeline):
    spans: RedisSpans

    async def execute(self, raise_on_error: bool = True) -> list[Any]:
        operation = "MULTI" if self.is_transaction else "PIPELINE"
        size = len(self.command_stack)
        return await self.spans.around(operation, lambda: Pipeline.execute(self, raise_on_error), batch=size)

