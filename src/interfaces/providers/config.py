"""What the process is told: settings and the gateway file (both dishka context), and the plans they define."""

from dishka import Provider, Scope, from_context, provide

from application.plan_book import PlanBook
from domain.payments import CreditPackages
from interfaces.gateway_config import GatewayConfig
from interfaces.settings import Settings


class ConfigProvider(Provider):
    scope = Scope.APP
    settings = from_context(Settings, scope=Scope.APP)
    config = from_context(GatewayConfig, scope=Scope.APP)

    @provide
    def plans(self, config: GatewayConfig) -> PlanBook:
        return PlanBook(config.plans, config.default_plan)

    @provide
    def credit_packages(self, config: GatewayConfig) -> CreditPackages:
        return config.credit_packages
