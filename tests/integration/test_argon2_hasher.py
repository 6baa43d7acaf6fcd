"""The argon2id adapter: real hashes, verified off the event loop."""

from argon2 import PasswordHasher

from infrastructure.argon2_hasher import Argon2PasswordHasher


async def test_hash_verify_and_rehash() -> None:
    hasher = Argon2PasswordHasher()
    stored = await hasher.hash("correct horse battery")
    assert stored.startswith("$argon2id$v=19$m=65536,t=3,p=4$")
    assert "correct horse" not in stored
    assert await hasher.verify(stored, "correct horse battery")
    assert not await hasher.verify(stored, "correct horse batterY")
    assert await hasher.hash("correct horse battery") != stored  # salted
    assert not hasher.needs_rehash(stored)
    weak = PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1).hash("correct horse battery")
    assert await hasher.verify(weak, "correct horse battery") and hasher.needs_rehash(weak)


async def test_a_stored_value_that_is_no_hash_never_verifies() -> None:
    hasher = Argon2PasswordHasher()
    for stored in ("", "plain text", "$argon2id$v=19$broken"):
        assert not await hasher.verify(stored, "plain text")
        assert hasher.needs_rehash(stored)
