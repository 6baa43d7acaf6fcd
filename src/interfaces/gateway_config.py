"""The optional TOML file (SLUICE_CONFIG): plans, the models the gateway serves, and pricing.

default_plan = "default"

[models]
allow = ["openai/gpt-4o-mini", "qwen/qwen3-32b"]   # omit to serve every upstream model
builtin_aliases = true                             # dall-e-3, dall-e-2 -> google/gemini-2.5-flash-image

[models.aliases]                                   # a name clients send -> the id it stands for
"gpt-4" = "openai/gpt-4o"

[plans.default]                # a table named like a built-in plan amends it
spend_caps = [{ period = "day", usd = "2.00" }]

[plans.pro]
description = "300 chat RPM, prepaid"
prepaid = true
models = ["openai/gpt-4o-mini"]
limits = [
  { name = "chat", endpoints = ["chat"], requests = 300, per = "1m", subject = "key" },
  { name = "per-ip", endpoints = ["chat", "embeddings"], requests = 60, per = "1m", subject = "ip" },
]
pricing = { mode = "per_token", multiplier = "1.2" }   # or { mode = "per_request", usd = "0.01" }
# image_usd = "0.04" in a pricing table prices each generated image at that, whatever the upstream charged

[[credits.packages]]           # the packages on /credits; listing any replaces the built-in five
id = "p25"                     # $5 = 5, $10 = 10, $25 = 25 + 2.5, $50 = 50 + 7.5, $100 = 100 + 20 credits
usd = "25"                     # the price, whole cents
credits = "25"                 # $1 = 1 credit
bonus = "2.5"                  # optional

[policy]
block_clients = ["Cursor", "Cline", "claude-cli"]  # case-insensitive substrings of User-Agent, Referer,
                                                   # HTTP-Referer, X-Title; off (empty) by default

[[oidc.providers]]                                 # sign-in through OpenID Connect (interfaces/oidc_settings.py)
id = "google"
name = "Google"
issuer = "https://accounts.google.com"
client_id = "1234.apps.googleusercontent.com"
client_secret_env = "SLUICE_GOOGLE_CLIENT_SECRET"  # secrets only from the environment

docs/examples/sluice.toml is a complete example.
"""

import os
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from fractions import Fraction
from pathlib import Path
from types import MappingProxyType
from typing import Any

from domain.client_policy import ClientPolicy
from domain.errors import InvalidRequest
from domain.model_names import DEFAULT_MODEL_ALIASES
from domain.money import usd_to_micros
from domain.payments import CreditPackage, CreditPackages
from domain.plans import BUILTIN_PLANS, Endpoint, Period, Plan, Pricing, PricingMode, RatePolicy, SpendCap, Subject
from interfaces.oidc_settings import OidcClientSettings, oidc_clients, oidc_from_config, oidc_from_env
from interfaces.settings import SettingsError

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(s|sec|m|min|h|hr|d|day)?\s*$")
_UNIT_SECONDS = {None: 1, "s": 1, "sec": 1, "m": 60, "min": 60, "h": 3600, "hr": 3600, "d": 86400, "day": 86400}


@dataclass(frozen=True, slots=True)
class GatewayConfig:
    plans: tuple[Plan, ...] = ()
    default_plan: str = "default"
    allowed_models: frozenset[str] | None = None
    # Client model names -> catalogue ids (the built-ins, then `[models.aliases]` over them).
    model_aliases: Mapping[str, str] = field(default_factory=lambda: DEFAULT_MODEL_ALIASES)
    # `[policy] block_clients`: entries matched in the identifying headers; empty blocks nothing.
    block_clients: tuple[str, ...] = ()
    # `[[credits.packages]]`: what /credits sells; the credits spec's five unless listed.
    credit_packages: CreditPackages = field(default_factory=CreditPackages)
    # The OpenID Connect providers of the login page: SLUICE_OIDC_* first, then `[[oidc.providers]]`.
    oidc_providers: tuple[OidcClientSettings, ...] = ()

    @property
    def client_policy(self) -> ClientPolicy:
        """The policy to check each request against (build it once: it precomputes its entries)."""
        return ClientPolicy(self.block_clients)


def _fail(where: str, message: str) -> SettingsError:
    return SettingsError(f"SLUICE_CONFIG: {where}: {message}")


def parse_duration(value: Any) -> float | None:
    """Seconds from 30, "30", "1m", "30 min", "1h", "1d" (or a bare unit, "m": one of it); None if not one."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    text = str(value).strip()
    if text in _UNIT_SECONDS:
        text = "1" + text
    match = _DURATION.match(text)
    if not match:
        return None
    return float(match.group(1)) * _UNIT_SECONDS[match.group(2)]


def _duration(value: Any, where: str) -> float:
    seconds = parse_duration(value)
    if seconds is None:
        raise _fail(where, f"not a duration: {value!r} (use e.g. 30, '1m', '30m', '1h', '1d')")
    if seconds <= 0:
        raise _fail(where, "a window must be positive")
    return seconds


def _enum(kind: type, value: Any, where: str) -> Any:
    try:
        return kind(value)
    except ValueError:
        choices = ", ".join(member.value for member in kind)
        raise _fail(where, f"{value!r} is not one of {choices}") from None


def _limit(raw: dict[str, Any], where: str) -> RatePolicy:
    try:
        name = str(raw["name"])
        requests = int(raw["requests"])
    except (KeyError, TypeError, ValueError):
        raise _fail(where, "a limit needs `name` and an integer `requests`") from None
    endpoints = frozenset(_enum(Endpoint, e, where) for e in raw.get("endpoints", ["chat", "embeddings"]))
    window = _duration(raw.get("per", raw.get("window_seconds", "1m")), where)
    subject = _enum(Subject, raw.get("subject", "account"), where)
    if requests < 1:
        raise _fail(where, "`requests` must be at least 1")
    return RatePolicy(name, endpoints, requests, window, subject)


def _pricing(raw: dict[str, Any], base: Pricing, where: str) -> Pricing:
    mode = _enum(PricingMode, raw.get("mode", base.mode.value), where)
    try:
        multiplier = Fraction(str(raw.get("multiplier", base.multiplier)))
        per_request = usd_to_micros(raw["usd"]) if "usd" in raw else base.per_request_micros
        per_image = usd_to_micros(raw["image_usd"]) if "image_usd" in raw else base.per_image_micros
    except (ValueError, ZeroDivisionError):
        raise _fail(where, "multiplier, usd and image_usd must be decimal numbers") from None
    if multiplier < 0 or per_request < 0 or per_image < 0:
        raise _fail(where, "prices cannot be negative")
    return Pricing(mode, per_request, multiplier, per_image)


def _plan(name: str, raw: dict[str, Any], base: Plan | None) -> Plan:
    where = f"plans.{name}"
    plan = base or Plan(name=name)
    changes: dict[str, Any] = {"name": name}
    if "description" in raw:
        changes["description"] = str(raw["description"])
    if "limits" in raw:
        changes["policies"] = tuple(_limit(item, f"{where}.limits") for item in raw["limits"])
    if "models" in raw:
        changes["allowed_models"] = frozenset(str(m) for m in raw["models"])
    if "pricing" in raw:
        changes["pricing"] = _pricing(raw["pricing"], plan.pricing, f"{where}.pricing")
    if "prepaid" in raw:
        changes["prepaid"] = bool(raw["prepaid"])
    if "spend_caps" in raw:
        caps = []
        for cap in raw["spend_caps"]:
            try:
                caps.append(SpendCap(_enum(Period, cap["period"], where), usd_to_micros(cap["usd"])))
            except (KeyError, TypeError, ValueError):
                raise _fail(f"{where}.spend_caps", "each cap needs `period` (day|week|month) and `usd`") from None
        changes["spend_caps"] = tuple(caps)
    if "moderate_input" in raw:
        changes["moderate_input"] = bool(raw["moderate_input"])
    if "completion_budget_tokens" in raw:
        changes["completion_budget_tokens"] = int(raw["completion_budget_tokens"])
    return replace(plan, **changes)


def parse_config(data: dict[str, Any], env: Mapping[str, str] | None = None) -> GatewayConfig:
    """`env` gives the OpenID Connect providers' secrets (and the SLUICE_OIDC_* one); os.environ by default."""
    env = os.environ if env is None else env
    builtins = {p.name: p for p in BUILTIN_PLANS}
    plans_raw = data.get("plans", {})
    if not isinstance(plans_raw, dict):
        raise _fail("plans", "must be a table of plan tables")
    plans = []
    for name, raw in plans_raw.items():
        if not isinstance(raw, dict):
            raise _fail(f"plans.{name}", "must be a table")
        base = builtins.get(str(raw.get("extends", name)))
        plans.append(_plan(name, raw, base))
    models = data.get("models", {})
    if not isinstance(models, dict):
        raise _fail("models", "must be a table")
    allow = models.get("allow")
    default_plan = str(data.get("default_plan", "default"))
    if default_plan not in builtins and default_plan not in plans_raw:
        raise _fail("default_plan", f"no plan named {default_plan!r}")
    return GatewayConfig(
        plans=tuple(plans),
        default_plan=default_plan,
        allowed_models=frozenset(str(m) for m in allow) if allow is not None else None,
        model_aliases=_aliases(models),
        block_clients=_block_clients(data.get("policy", {})),
        credit_packages=_credit_packages(data.get("credits", {})),
        oidc_providers=oidc_clients(oidc_from_env(env), oidc_from_config(data.get("oidc"), env)),
    )


def _block_clients(policy: Any) -> tuple[str, ...]:
    if not isinstance(policy, dict):
        raise _fail("policy", "must be a table")
    unknown = sorted(set(policy) - {"block_clients"})
    if unknown:
        raise _fail("policy", f"unknown key {unknown[0]!r} (known: block_clients)")
    raw = policy.get("block_clients", [])
    if not isinstance(raw, list) or not all(isinstance(entry, str) for entry in raw):
        raise _fail("policy.block_clients", 'must be an array of strings, e.g. ["Cursor", "Cline"]')
    try:
        ClientPolicy(tuple(raw))  # refuses what would block everything
        return tuple(entry.strip() for entry in raw)
    except InvalidRequest as exc:
        raise _fail("policy.block_clients", exc.detail) from None


def _package(raw: Any, where: str) -> CreditPackage:
    if not isinstance(raw, dict):
        raise _fail(where, "each package must be a table")
    unknown = sorted(set(raw) - {"id", "usd", "credits", "bonus"})
    if unknown:
        raise _fail(where, f"unknown key {unknown[0]!r} (known: id, usd, credits, bonus)")
    try:
        return CreditPackage(
            id=str(raw["id"]),
            price_micros=usd_to_micros(raw["usd"]),
            credits_micros=usd_to_micros(raw["credits"]),
            bonus_micros=usd_to_micros(raw.get("bonus", "0")),
        )
    except KeyError as exc:
        raise _fail(where, f"a package needs `id`, `usd` and `credits` (missing {exc.args[0]})") from None
    except ValueError as exc:
        raise _fail(where, f"`usd`, `credits` and `bonus` must be decimal numbers: {exc}") from None
    except InvalidRequest as exc:
        raise _fail(where, exc.detail) from None


def _credit_packages(credits: Any) -> CreditPackages:
    if not isinstance(credits, dict):
        raise _fail("credits", "must be a table")
    unknown = sorted(set(credits) - {"packages"})
    if unknown:
        raise _fail("credits", f"unknown key {unknown[0]!r} (known: packages)")
    if "packages" not in credits:
        return CreditPackages()
    raw = credits["packages"]
    if not isinstance(raw, list):
        raise _fail("credits.packages", "must be an array of tables ([[credits.packages]])")
    items = tuple(_package(item, f"credits.packages[{i}]") for i, item in enumerate(raw))
    try:
        return CreditPackages(items)
    except InvalidRequest as exc:
        raise _fail("credits.packages", exc.detail) from None


def _aliases(models: dict[str, Any]) -> Mapping[str, str]:
    builtin = models.get("builtin_aliases", True)
    if not isinstance(builtin, bool):
        raise _fail("models.builtin_aliases", "must be true or false")
    raw = models.get("aliases", {})
    if not isinstance(raw, dict):
        raise _fail("models.aliases", 'must be a table of "name" = "model id"')
    aliases = dict(DEFAULT_MODEL_ALIASES) if builtin else {}
    for name, target in raw.items():
        if not isinstance(target, str) or not target.strip() or not name.strip():
            raise _fail(f"models.aliases.{name}", "an alias needs a name and a model id (non-empty strings)")
        aliases[name.strip()] = target.strip()
    return MappingProxyType(aliases)


def load_config(path: Path | None, env: Mapping[str, str] | None = None) -> GatewayConfig:
    if path is None:
        env = os.environ if env is None else env
        return GatewayConfig(oidc_providers=oidc_clients(oidc_from_env(env), ()))
    try:
        data = tomllib.loads(path.read_text())
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise SettingsError(f"SLUICE_CONFIG: cannot read {path}: {exc}") from None
    return parse_config(data, env)
