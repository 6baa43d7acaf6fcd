"""`[[credits.packages]]` in the gateway file: the built-in five unless listed, each checked with its place named."""

import re
import tomllib

import pytest

from domain.payments import BUILTIN_PACKAGES
from interfaces.gateway_config import parse_config
from interfaces.settings import SettingsError, load_settings, payments_unconfigured


def parse(text: str):  # type: ignore[no-untyped-def]
    return parse_config(tomllib.loads(text))


def test_no_section_sells_the_credits_spec_packages():
    assert parse("").credit_packages.items == BUILTIN_PACKAGES


def test_listed_packages_replace_the_builtins_in_their_order():
    config = parse(
        """
        [[credits.packages]]
        id = "starter"
        usd = "2.50"
        credits = "2"
        [[credits.packages]]
        id = "p25"
        usd = 25
        credits = "25"
        bonus = "2.5"
        """
    )
    starter, p25 = config.credit_packages.items
    assert (starter.id, starter.amount_cents, starter.credits_micros) == ("starter", 250, 2_000_000)
    assert starter.bonus_micros == 0
    assert (p25.amount_cents, p25.total_micros) == (2500, 27_500_000)


def test_an_empty_list_sells_nothing():
    assert parse("[credits]\npackages = []").credit_packages.items == ()


@pytest.mark.parametrize(
    ("text", "where", "message"),
    [
        ('[[credits.packages]]\nid = "a"\nusd = "5"', "credits.packages[0]", "needs `id`, `usd` and `credits`"),
        ('[[credits.packages]]\nid = "a"\nusd = "5.001"\ncredits = "5"', "credits.packages[0]", "number of cents"),
        ('[[credits.packages]]\nid = "a"\nusd = "five"\ncredits = "5"', "credits.packages[0]", "decimal numbers"),
        ('[[credits.packages]]\nid = "a"\nusd = "5"\ncredits = "5"\nprice = 1', "credits.packages[0]", "unknown key"),
        (
            '[[credits.packages]]\nid = "a"\nusd = "5"\ncredits = "5"\n[[credits.packages]]\nid = "a"\nusd = "6"\n'
            'credits = "6"',
            "credits.packages",
            "its own id",
        ),
        ("[credits]\npackage = []", "credits", "unknown key"),
    ],
)
def test_bad_packages_are_refused_naming_the_place(text: str, where: str, message: str):
    with pytest.raises(SettingsError, match=re.escape(f"SLUICE_CONFIG: {where}: ") + ".*" + re.escape(message)):
        parse(text)


def test_purchases_need_both_stripe_settings(tmp_path):
    base = {"SLUICE_DATA_DIR": str(tmp_path), "SLUICE_UPSTREAM_URL": "http://127.0.0.1:9"}
    assert payments_unconfigured(load_settings(base)) == ("SLUICE_STRIPE_SECRET_KEY", "SLUICE_STRIPE_WEBHOOK_SECRET")
    key_only = load_settings({**base, "STRIPE_SECRET_KEY": "sk_test_1"})
    assert key_only.stripe_secret_key == "sk_test_1"
    assert payments_unconfigured(key_only) == ("SLUICE_STRIPE_WEBHOOK_SECRET",)
    both = load_settings({**base, "SLUICE_STRIPE_SECRET_KEY": "sk_test_2", "SLUICE_STRIPE_WEBHOOK_SECRET": "whsec_1"})
    assert payments_unconfigured(both) == () and both.stripe_api_base is None
    with pytest.raises(SettingsError, match="SLUICE_STRIPE_API_BASE"):
        load_settings({**base, "SLUICE_STRIPE_API_BASE": "ftp://x"})
