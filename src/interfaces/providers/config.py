"""What the process is told: settings and the gateway file (both dishka context), and the policies they define."""

from dishka import Provider, Scope, from_context, provide

from application.plan_book import PlanBook
from domain.attempt_limits import AttemptLimits
from domain.sign_up import SignUpPolicy
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
    def sign_up_policy(self, settings: Settings) -> SignUpPolicy:
        return SignUpPolicy(open=settings.signup_open, domains=settings.signup_domains)

    @provide
    def attempt_limits(self, settings: Settings) -> AttemptLimits:
        return AttemptLimits(per_email=settings.signin_attempts_per_email, per_ip=settings.signin_attempts_per_ip)
