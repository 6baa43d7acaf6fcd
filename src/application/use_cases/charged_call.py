"""A metered call whose answer states what it cost and what is left (the credits API's)."""

from dataclasses import dataclass

from application.gateway_request import GatewayRequest
from application.ports.credits import CreditLedger
from application.principal import Principal
from application.use_cases.proxy_model_request import Proxied, ProxyModelRequest


@dataclass(frozen=True, slots=True)
class Charged:
    proxied: Proxied
    charged_micros: int  # 0 when the upstream failed: a failed call is not billed
    balance_micros: int  # the prepaid balance after this call


class ProxyChargedRequest:
    def __init__(self, proxy: ProxyModelRequest, ledger: CreditLedger) -> None:
        self._proxy = proxy
        self._ledger = ledger

    async def execute(self, principal: Principal, request: GatewayRequest) -> Charged:
        proxied = await self._proxy.execute(principal, request, settled=True)
        charged = proxied.settlement.charged_micros if proxied.settlement is not None else 0
        return Charged(proxied, charged, await self._ledger.balance(principal.account.id))
