"""Redemption codes with fakes: shown once, hashed, each account once, never past their uses or expiry."""

from datetime import timedelta

import pytest

from application.use_cases.redemption_codes import (
    IssueRedemptionCodes,
    ListRedemptionCodes,
    RedeemCode,
    RevokeRedemptionCode,
)
from domain.credits import EntryKind
from domain.errors import CodeNotRedeemable, InvalidRequest, NotFound
from domain.redemption import CodeStatus, RedeemRefusal, hash_code, looks_like_code, normalize_code
from tests.fakes.memory import FakeClock, InMemoryCreditLedger
from tests.fakes.payments import InMemoryRedemptionCodes

PEPPER = b"unit-test-pepper-0123456789"
CREDIT = 1_000_000


class World:
    def __init__(self) -> None:
        self.clock = FakeClock()
        self.codes = InMemoryRedemptionCodes()
        self.ledger = InMemoryCreditLedger()
        self.issue = IssueRedemptionCodes(self.codes, self.clock, PEPPER)
        self.redeem = RedeemCode(self.codes, self.ledger, self.ledger, self.clock, PEPPER)
        self.revoke = RevokeRedemptionCode(self.codes, self.clock)

    async def one(self, credits: int = 5 * CREDIT, **options):  # type: ignore[no-untyped-def]
        [issued] = await self.issue.execute(credits, created_by="ops@example.org", **options)
        return issued

    async def refusal(self, account: str, secret: str) -> str:
        with pytest.raises(CodeNotRedeemable) as refused:
            await self.redeem.execute(account, secret)
        return refused.value.reason


def test_codes_are_read_forgivingly():
    assert normalize_code(" abcde-fghjk-mnpqr-stvwx ") == "ABCDEFGHJKMNPQRSTVWX"
    assert normalize_code("O0-Il") == "0011"  # look-alikes read as the digits they resemble
    assert hash_code("abcde-fghjk-mnpqr-stvwx", PEPPER) == hash_code("ABCDEFGHJKMNPQRSTVWX", PEPPER)
    assert hash_code("ABCDEFGHJKMNPQRSTVWX", PEPPER) != hash_code("ABCDEFGHJKMNPQRSTVWX", b"another-pepper-000000")
    assert not looks_like_code("short") and looks_like_code("ABCDE-FGHJK-MNPQR-STVWX")


async def test_issued_codes_are_shown_once_and_stored_only_as_a_hash():
    world = World()
    issued = await world.issue.execute(2 * CREDIT, max_uses=3, count=4, created_by="ops@example.org")
    assert len({i.secret for i in issued}) == 4
    for i in issued:
        assert looks_like_code(i.secret) and i.secret not in repr(i.code)
        assert i.code.code_hash == hash_code(i.secret, PEPPER)
        assert (i.code.credits_micros, i.code.max_uses, i.code.uses, i.code.created_by) == (
            2 * CREDIT,
            3,
            0,
            "ops@example.org",
        )
    listed = await ListRedemptionCodes(world.codes).execute()
    assert {c.id for c in listed} == {i.code.id for i in issued}


@pytest.mark.parametrize(
    "options",
    [
        {"credits": 0},
        {"credits": 2_000_000 * CREDIT},
        {"max_uses": 0},
        {"count": 0},
        {"count": 1001},
        {"expires_in": timedelta(0)},
    ],
)
async def test_issue_refuses_what_makes_no_sense(options):
    world = World()
    credits = options.pop("credits", CREDIT)
    if "expires_in" in options:
        options["expires_at"] = world.clock.now() + options.pop("expires_in")
    with pytest.raises(InvalidRequest):
        await world.issue.execute(credits, created_by="ops", **options)


async def test_a_single_use_code_is_redeemed_once_in_all():
    world = World()
    issued = await world.one(5 * CREDIT)
    done = await world.redeem.execute("acct_a", issued.secret.lower().replace("-", " "))
    assert (done.credits_micros, done.balance_micros) == (5 * CREDIT, 5 * CREDIT)
    [entry] = world.ledger.all_entries
    assert entry.kind is EntryKind.GRANT and entry.idempotency_key == f"redeem:{issued.code.id}:acct_a"
    assert await world.refusal("acct_a", issued.secret) == RedeemRefusal.ALREADY_REDEEMED
    assert await world.refusal("acct_b", issued.secret) == RedeemRefusal.USED_UP
    assert await world.ledger.balance("acct_b") == 0


async def test_a_multi_use_code_admits_each_account_once_up_to_its_uses():
    world = World()
    issued = await world.one(CREDIT, max_uses=2)
    await world.redeem.execute("acct_a", issued.secret)
    assert await world.refusal("acct_a", issued.secret) == RedeemRefusal.ALREADY_REDEEMED
    await world.redeem.execute("acct_b", issued.secret)
    assert await world.refusal("acct_c", issued.secret) == RedeemRefusal.USED_UP
    code = await world.codes.get(issued.code.id)
    assert code is not None and code.uses == 2 and code.status(world.clock.now()) is CodeStatus.USED_UP


async def test_expired_revoked_and_unknown_codes_grant_nothing():
    world = World()
    expiring = await world.one(expires_at=world.clock.now() + timedelta(days=1))
    revoked = await world.one()
    world.clock.advance(86_400)
    assert await world.refusal("acct_a", expiring.secret) == RedeemRefusal.EXPIRED
    code, changed = await world.revoke.execute(revoked.code.id)
    assert changed and code.revoked_at is not None
    assert (await world.revoke.execute(revoked.code.id))[1] is False
    assert await world.refusal("acct_a", revoked.secret) == RedeemRefusal.REVOKED
    assert await world.refusal("acct_a", "ZZZZZ-ZZZZZ-ZZZZZ-ZZZZZ") == RedeemRefusal.UNKNOWN
    assert await world.refusal("acct_a", "hello") == RedeemRefusal.UNKNOWN
    assert world.ledger.all_entries == []
    with pytest.raises(NotFound):
        await world.revoke.execute("code_missing")


async def test_a_redemption_whose_grant_failed_is_completed_by_redeeming_again():
    world = World()
    issued = await world.one(3 * CREDIT)
    failing = RedeemCode(world.codes, _FailingLedger(), world.ledger, world.clock, PEPPER)
    with pytest.raises(ConnectionError):
        await failing.execute("acct_a", issued.secret)
    done = await world.redeem.execute("acct_a", issued.secret)  # finds the use counted and no grant
    assert done.balance_micros == 3 * CREDIT
    assert await world.refusal("acct_a", issued.secret) == RedeemRefusal.ALREADY_REDEEMED
    assert (await world.codes.get(issued.code.id)).uses == 1  # type: ignore[union-attr]


class _FailingLedger(InMemoryCreditLedger):
    async def append(self, entry):  # type: ignore[no-untyped-def]
        raise ConnectionError("database went away")
