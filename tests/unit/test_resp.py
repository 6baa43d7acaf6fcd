"""The RESP reader of the pipelined Redis connection, on every way a reply can arrive."""

import pytest

from infrastructure.limits.resp import RespError, _Incomplete, _Protocol, encode, parse

REPLIES = [
    (b":42\r\n", 42),
    (b"+OK\r\n", b"OK"),
    (b"$5\r\nhello\r\n", b"hello"),
    (b"$-1\r\n", None),
    (b"*2\r\n*4\r\n:1\r\n:9\r\n:1000\r\n:0\r\n*4\r\n:0\r\n:0\r\n:5\r\n:7\r\n", [[1, 9, 1000, 0], [0, 0, 5, 7]]),
]


@pytest.mark.parametrize(("raw", "value"), REPLIES)
def test_parse_whole_replies(raw: bytes, value: object) -> None:
    assert parse(raw, 0) == (value, len(raw))


@pytest.mark.parametrize(("raw", "value"), REPLIES)
def test_a_cut_reply_is_incomplete_never_wrong(raw: bytes, value: object) -> None:
    for cut in range(len(raw)):
        with pytest.raises(_Incomplete):
            parse(raw[:cut], 0)


def test_error_replies_are_values_not_exceptions() -> None:
    reply, _ = parse(b"-NOSCRIPT No matching script\r\n", 0)
    assert isinstance(reply, RespError) and str(reply).startswith("NOSCRIPT")


def test_encode_is_a_resp_array_of_bulk_strings() -> None:
    assert encode("EVALSHA", "ab", 1, b"k") == b"*4\r\n$7\r\nEVALSHA\r\n$2\r\nab\r\n$1\r\n1\r\n$1\r\nk\r\n"


async def test_replies_split_across_reads_resolve_callers_in_order() -> None:
    import asyncio

    protocol = _Protocol()
    loop = asyncio.get_running_loop()
    futures = [loop.create_future() for _ in range(3)]
    protocol.waiting.extend(futures)
    stream = b":1\r\n$3\r\nabc\r\n*1\r\n:7\r\n"
    for i in range(0, len(stream), 3):
        protocol.data_received(stream[i : i + 3])
    assert [f.result() for f in futures] == [1, b"abc", [7]]
    assert protocol.buffer == b""


async def test_a_lost_connection_fails_every_waiting_caller() -> None:
    import asyncio

    protocol = _Protocol()
    future = asyncio.get_running_loop().create_future()
    protocol.waiting.append(future)
    protocol.connection_lost(None)
    with pytest.raises(ConnectionError):
        future.result()


async def test_the_commands_of_one_loop_turn_go_out_in_one_write_in_order() -> None:
    import asyncio

    class Transport:
        def __init__(self) -> None:
            self.writes: list[bytes] = []

        def write(self, data: bytes) -> None:
            self.writes.append(data)

    protocol = _Protocol()
    transport = Transport()
    protocol.connection_made(transport)  # type: ignore[arg-type]
    loop = asyncio.get_running_loop()
    futures = [loop.create_future() for _ in range(3)]
    for i, future in enumerate(futures):
        protocol.queue(encode("GET", f"k{i}"), future)
    assert transport.writes == []  # nothing until the turn ends

    await asyncio.sleep(0)

    assert transport.writes == [encode("GET", "k0") + encode("GET", "k1") + encode("GET", "k2")]
    protocol.data_received(b":0\r\n:1\r\n:2\r\n")
    assert [f.result() for f in futures] == [0, 1, 2]
    protocol.queue(encode("GET", "k3"), loop.create_future())
    await asyncio.sleep(0)
    assert len(transport.writes) == 2  # a later turn, a write of its own
