"""The composition root: dishka providers build every adapter, own it and close it.

One container per process (the ASGI app's, or a CLI command's). Settings and the gateway file come
in as context; each concern's provider builds its adapters and closes them in a `yield` finalizer;
`PortsProvider` binds ports to adapters; `UseCasesProvider` builds the use cases; `Lifecycle` starts
the background work and, as its finalizer, drains it before any adapter closes (see
`providers/lifecycle.py` for why that order holds).
"""

from dishka import AsyncContainer, Provider, make_async_container

from interfaces.gateway_config import GatewayConfig, load_config
from interfaces.providers.admin import AdminProvider
from interfaces.providers.config import ConfigProvider
from interfaces.providers.credits import CreditsProvider
from interfaces.providers.lifecycle import LifecycleProvider
from interfaces.providers.limits import limits_provider
from interfaces.providers.payments import PaymentsProvider
from interfaces.providers.persistence import PersistenceProvider
from interfaces.providers.ports import PortsProvider
from interfaces.providers.single_sign_on import SingleSignOnProvider
from interfaces.providers.telemetry import BackendErrorsProvider, TelemetryProvider
from interfaces.providers.upstream import UpstreamProvider
from interfaces.providers.use_cases import UseCasesProvider
from interfaces.providers.web_sessions import web_sessions_provider
from interfaces.settings import Settings

__all__ = ["PortsProvider", "UseCasesProvider", "make_container", "providers"]


def providers(settings: Settings) -> list[Provider]:
    return [
        ConfigProvider(),
        BackendErrorsProvider(),
        PersistenceProvider(),
        limits_provider(settings),  # after persistence: it decorates the readiness probes
        web_sessions_provider(settings),  # Redis (the limits provider's client) or the database
        UpstreamProvider(),
        TelemetryProvider(),
        CreditsProvider(),
        PaymentsProvider(),
        PortsProvider(),
        UseCasesProvider(),
        AdminProvider(),
        SingleSignOnProvider(),
        LifecycleProvider(),
    ]


def make_container(settings: Settings) -> AsyncContainer:
    # Read the gateway file now, not at first use: a bad one stops the start at once, with its name.
    config = load_config(settings.config_path)
    return make_async_container(*providers(settings), context={Settings: settings, GatewayConfig: config})
