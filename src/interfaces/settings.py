"""Settings from the environment. A missing or invalid one stops the start with its name."""

import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

DEFAULT_UPSTREAM = "https://openrouter.ai/api/v1"
DEFAULT_MODERATION_URL = "https://api.openai.com/v1"  # OpenRouter has no /moderations


class SettingsError(ValueError):
    pass


@dataclass(frozen=True, slots=True)
class Settings:
    database_url: str
    redis_url: str | None
    upstream_url: str
    upstream_api_key: str | None
    config_path: Path | None
    host: str
    port: int
    key_pepper: bytes
    data_dir: Path
    workers: int = 1
    log_level: str = "info"
    max_body_bytes: int = 32 * 1024 * 1024
    # Per family; None takes max_body_bytes.
    openai_max_body_bytes: int | None = None
    gemini_max_body_bytes: int | None = None
    credits_max_body_bytes: int | None = None
    key_cache_seconds: float = 5.0
    upstream_read_timeout: float = 300.0
    max_active_keys: int = 50
    request_log: bool = True  # the request log: one structured line per request
    log_format: str = "json"
    log_content: bool = False  # request bodies in the request log: an operator's explicit choice
    metrics_port: int | None = None  # /metrics on a port of its own (then not on the app's)
    drain_seconds: float = 0.0  # after SIGTERM: not ready, still serving, this long
    lease_seconds: float = 30.0
    metrics_max_models: int = 100
    moderation_url: str = DEFAULT_MODERATION_URL
    moderation_api_key: str | None = None
    image_ttl_seconds: float = 3600.0
    stripe_secret_key: str | None = None
    stripe_webhook_secret: str | None = None
    stripe_api_base: str | None = None  # None: Stripe's own
    signup_open: bool = True
    signup_domains: tuple[str, ...] = ()  # lower case; empty: any domain
    session_days: int = 14
    signin_attempts_per_email: int = 10  # per 15 minutes
    signin_attempts_per_ip: int = 30


def _int(env: Mapping[str, str], name: str, default: int, low: int, high: int) -> int:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise SettingsError(f"{name} must be an integer, got {raw!r}") from None
    if not low <= value <= high:
        raise SettingsError(f"{name} must lie between {low} and {high}, got {value}")
    return value


def _flag(env: Mapping[str, str], name: str, default: bool) -> bool:
    raw = (env.get(name) or "").strip().lower()
    if not raw:
        return default
    if raw in {"1", "true", "yes", "on"}:
        return True
    if raw in {"0", "false", "no", "off"}:
        return False
    raise SettingsError(f"{name} must be 1 or 0 (true or false), got {raw!r}")


def _log_format(env: Mapping[str, str]) -> str:
    value = (env.get("SLUICE_LOG_FORMAT") or "json").strip().lower()
    if value not in {"json", "text"}:
        raise SettingsError(f"SLUICE_LOG_FORMAT must be json or text, got {value!r}")
    return value


def _drain_seconds(env: Mapping[str, str]) -> float:
    if (env.get("SLUICE_DRAIN_SECONDS") or "").strip() in {"", "0"}:
        return 0.0
    value = _float(env, "SLUICE_DRAIN_SECONDS", 0.0)
    if not 0 <= value <= 300:
        raise SettingsError(f"SLUICE_DRAIN_SECONDS must lie between 0 and 300, got {value:g}")
    return value


def _optional_int(env: Mapping[str, str], name: str, low: int, high: int) -> int | None:
    return _int(env, name, 0, low, high) or None if env.get(name) else None


def _float(env: Mapping[str, str], name: str, default: float) -> float:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = float(raw)
    except ValueError:
        raise SettingsError(f"{name} must be a number, got {raw!r}") from None
    if value <= 0:
        raise SettingsError(f"{name} must be positive, got {raw!r}")
    return value


def _url(env: Mapping[str, str], name: str, default: str | None, schemes: tuple[str, ...]) -> str | None:
    raw = (env.get(name) or "").strip() or default
    if raw is None:
        return None
    if not raw.startswith(schemes):
        raise SettingsError(f"{name} must start with one of {', '.join(schemes)}; got {raw.split(':')[0]!r}")
    return raw


def _pepper(env: Mapping[str, str], data_dir: Path, sqlite: bool) -> bytes:
    raw = env.get("SLUICE_KEY_PEPPER", "")
    if raw:
        if len(raw) < 16:
            raise SettingsError("SLUICE_KEY_PEPPER must be at least 16 characters")
        return raw.encode()
    if not sqlite:
        raise SettingsError(
            "SLUICE_KEY_PEPPER is required with a shared database: every gateway process must hash "
            "keys with the same secret (e.g. `openssl rand -hex 32`)"
        )
    # Embedded mode: one machine, one file; keep a generated pepper beside the database.
    path = data_dir / "pepper"
    if not path.exists():
        data_dir.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_hex(32))
    return path.read_text().strip().encode()


def load_settings(env: Mapping[str, str] | None = None, *, serving: bool = True) -> Settings:
    """`serving=False` (the admin CLI) does not insist on upstream credentials it will not use."""
    env = os.environ if env is None else env
    data_dir = Path(env.get("SLUICE_DATA_DIR") or ".sluice")
    database_url = _url(
        env,
        "SLUICE_DATABASE_URL",
        f"sqlite+aiosqlite:///{data_dir / 'sluice.db'}",
        ("sqlite", "postgresql", "postgres://"),
    )
    assert database_url is not None
    upstream_url = _url(env, "SLUICE_UPSTREAM_URL", DEFAULT_UPSTREAM, ("http://", "https://"))
    assert upstream_url is not None
    upstream_key = env.get("SLUICE_UPSTREAM_API_KEY") or env.get("OPENROUTER_API_KEY") or None
    if serving and upstream_key is None and upstream_url.rstrip("/") == DEFAULT_UPSTREAM:
        raise SettingsError(
            "SLUICE_UPSTREAM_API_KEY (or OPENROUTER_API_KEY) is required to reach OpenRouter; "
            "set SLUICE_UPSTREAM_URL to use another OpenAI-compatible server"
        )
    config = env.get("SLUICE_CONFIG") or None
    if config is not None and not Path(config).is_file():
        raise SettingsError(f"SLUICE_CONFIG points at {config!r}, which is not a readable file")
    log_level = (env.get("SLUICE_LOG_LEVEL") or "info").lower()
    if log_level not in {"debug", "info", "warning", "error", "critical"}:
        raise SettingsError(f"SLUICE_LOG_LEVEL must be debug, info, warning, error or critical; got {log_level!r}")
    sqlite = database_url.startswith("sqlite")
    return Settings(
        database_url=database_url,
        redis_url=_url(env, "SLUICE_REDIS_URL", None, ("redis://", "rediss://", "unix://")),
        upstream_url=upstream_url.rstrip("/"),
        upstream_api_key=upstream_key,
        config_path=Path(config) if config else None,
        host=env.get("SLUICE_HOST") or "127.0.0.1",
        port=_int(env, "SLUICE_PORT", 8080, 1, 65535),
        key_pepper=_pepper(env, data_dir, sqlite),
        data_dir=data_dir,
        workers=_int(env, "SLUICE_WORKERS", 1, 1, 256),
        log_level=log_level,
        max_body_bytes=_int(env, "SLUICE_MAX_BODY_BYTES", 32 * 1024 * 1024, 1024, 1024**3),
        openai_max_body_bytes=_optional_int(env, "SLUICE_OPENAI_MAX_BODY_BYTES", 1024, 1024**3),
        gemini_max_body_bytes=_optional_int(env, "SLUICE_GEMINI_MAX_BODY_BYTES", 1024, 1024**3),
        credits_max_body_bytes=_optional_int(env, "SLUICE_CREDITS_MAX_BODY_BYTES", 1024, 1024**3),
        key_cache_seconds=_float(env, "SLUICE_KEY_CACHE_SECONDS", 5.0),
        upstream_read_timeout=_float(env, "SLUICE_UPSTREAM_TIMEOUT", 300.0),
        max_active_keys=_int(env, "SLUICE_MAX_ACTIVE_KEYS", 50, 1, 10_000),
        request_log=_flag(env, "SLUICE_ACCESS_LOG", True),
        log_format=_log_format(env),
        log_content=_flag(env, "SLUICE_LOG_CONTENT", False),
        metrics_port=_optional_int(env, "SLUICE_METRICS_PORT", 1, 65535),
        drain_seconds=_drain_seconds(env),
        lease_seconds=_lease_seconds(env),
        metrics_max_models=_int(env, "SLUICE_METRICS_MAX_MODELS", 100, 0, 10_000),
        moderation_url=_moderation_url(env),
        moderation_api_key=_moderation_api_key(env),
        image_ttl_seconds=_image_ttl_seconds(env),
        stripe_secret_key=(env.get("SLUICE_STRIPE_SECRET_KEY") or env.get("STRIPE_SECRET_KEY") or "").strip() or None,
        stripe_webhook_secret=(env.get("SLUICE_STRIPE_WEBHOOK_SECRET") or "").strip() or None,
        stripe_api_base=_url(env, "SLUICE_STRIPE_API_BASE", None, ("http://", "https://")),
        signup_open=_signup_open(env),
        signup_domains=_signup_domains(env),
        session_days=_int(env, "SLUICE_SESSION_DAYS", 14, 1, 365),
        signin_attempts_per_email=_int(env, "SLUICE_SIGNIN_ATTEMPTS_PER_EMAIL", 10, 1, 100_000),
        signin_attempts_per_ip=_int(env, "SLUICE_SIGNIN_ATTEMPTS_PER_IP", 30, 1, 100_000),
    )


def _signup_open(env: Mapping[str, str]) -> bool:
    value = (env.get("SLUICE_SIGNUP") or "open").strip().lower()
    if value not in {"open", "closed"}:
        raise SettingsError(f"SLUICE_SIGNUP must be open or closed, got {value!r}")
    return value == "open"


def _signup_domains(env: Mapping[str, str]) -> tuple[str, ...]:
    domains = [d.strip().lower().lstrip("@") for d in (env.get("SLUICE_SIGNUP_DOMAINS") or "").split(",")]
    bad = [d for d in domains if d and ("@" in d or "." not in d or " " in d)]
    if bad:
        raise SettingsError(f"SLUICE_SIGNUP_DOMAINS wants domains such as example.org, got {bad[0]!r}")
    return tuple(sorted({d for d in domains if d}))


def _lease_seconds(env: Mapping[str, str]) -> float:
    # A lease is renewed every third of this and swept every half, so a dead process's lease is back
    # within 1.5 times it: 40 s keeps that promise under a minute.
    value = _float(env, "SLUICE_LEASE_SECONDS", 30.0)
    if value > 40:
        raise SettingsError(f"SLUICE_LEASE_SECONDS must be at most 40, got {value:g}")
    return value


def _moderation_url(env: Mapping[str, str]) -> str:
    url = _url(env, "SLUICE_MODERATION_URL", DEFAULT_MODERATION_URL, ("http://", "https://"))
    assert url is not None
    return url.rstrip("/")


def _moderation_api_key(env: Mapping[str, str]) -> str | None:
    key = env.get("SLUICE_MODERATION_API_KEY") or None
    if key is None and _moderation_url(env) == DEFAULT_MODERATION_URL:
        # OpenAI's own variable, but only for OpenAI's URL: a key never goes to a server it was not made for.
        key = env.get("OPENAI_API_KEY") or None
    return key


MODERATION_KEY_MISSING = (
    "Moderation is not configured on this gateway: the operator must set SLUICE_MODERATION_API_KEY "
    "(or OPENAI_API_KEY) to reach OpenAI's moderation API, or SLUICE_MODERATION_URL to use another "
    "OpenAI-compatible moderation server."
)


def moderation_unconfigured(settings: Settings) -> str | None:
    """Why moderation cannot work (the message its calls answer 503 with), or None when it can.

    Only OpenAI's own URL needs a key: another server set by SLUICE_MODERATION_URL may need none.
    """
    if settings.moderation_api_key is None and settings.moderation_url == DEFAULT_MODERATION_URL:
        return MODERATION_KEY_MISSING
    return None


def _image_ttl_seconds(env: Mapping[str, str]) -> float:
    # How long a generated image's URL works (OpenAI's last an hour); at most a week, to bound the table.
    value = _float(env, "SLUICE_IMAGE_TTL_SECONDS", 3600.0)
    if value > 7 * 24 * 3600:
        raise SettingsError(f"SLUICE_IMAGE_TTL_SECONDS must be at most 604800 (a week), got {value:g}")
    return value


def payments_unconfigured(settings: Settings) -> tuple[str, ...]:
    """The settings that buying credits still needs; empty when both are set.

    Both or neither: with a key but no webhook secret, buyers would pay and never see their credits.
    """
    missing = []
    if settings.stripe_secret_key is None:
        missing.append("SLUICE_STRIPE_SECRET_KEY")
    if settings.stripe_webhook_secret is None:
        missing.append("SLUICE_STRIPE_WEBHOOK_SECRET")
    return tuple(missing)
