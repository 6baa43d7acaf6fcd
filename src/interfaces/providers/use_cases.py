"""The use cases (and the HTTP layer's shared forwarding step), one per process. A new use case is
one `provide(...)` line here; what it needs comes from the ports."""

from datetime import timedelta

from dishka import Provider, Scope, provide

from application.access_caches import AccessCaches
from application.background import BackgroundTasks
from application.metering import Meter
from application.plan_book import PlanBook
from application.ports.accounts import AccountRepository
from application.ports.api_keys import ApiKeyRepository
from application.ports.clock import Clock
from application.ports.credit_admin import CreditAdmin
from application.ports.credits import CreditLedger
from application.ports.image_store import ImageStore
from application.ports.redemption_codes import RedemptionCodeStore
from application.ports.upstream import Upstream
from application.ports.web_sessions import SessionStore
from application.use_cases.account_limits import SetAccountLimits
from application.use_cases.account_report import DescribeAccount
from application.use_cases.accounts import CreateAccount, FindAccount, ListAccounts, SetAccountBanned
from application.use_cases.allowed_models import ListAllowedModels, PrepareDocs
from application.use_cases.api_keys import IssueApiKey, ListApiKeys, RevokeApiKey
from application.use_cases.authenticate import Authenticate
from application.use_cases.charged_call import ProxyChargedRequest
from application.use_cases.credit_statement import ShowCredits
from application.use_cases.credits import DeductCredits, GrantCredits
from application.use_cases.generate_images import FetchImage, GenerateImages, PurgeExpiredImages
from application.use_cases.key_listing import ListKeysWithUse
from application.use_cases.leases import ListLeases, ReconcileLeases
from application.use_cases.limit_state import ReadLimitState
from application.use_cases.moderate import ProxyModerationRequest
from application.use_cases.passwords import ChangePassword, SetPassword
from application.use_cases.proxy_model_request import ProxyModelRequest
from application.use_cases.purchases import HandlePaymentWebhook, ListCreditPackages, StartCheckout
from application.use_cases.redemption_codes import (
    IssueRedemptionCodes,
    ListRedemptionCodes,
    RedeemCode,
    RevokeRedemptionCode,
)
from application.use_cases.sign_in import AttemptThrottle, SignIn
from application.use_cases.sign_up import SignUp
from application.use_cases.stream_model_request import StreamModelRequest
from application.use_cases.usage_dashboard import ShowOverview, ShowUsage
from application.use_cases.usage_stats import DescribeKey, GetAccountStats
from application.use_cases.usage_summary import SummarizeUsage
from application.use_cases.web_sessions import (
    OpenWebSession,
    ResolveSession,
    SignOut,
    SignOutEverywhere,
)
from interfaces.http.openai.calls import ForwardModelCall
from interfaces.settings import Settings


class UseCasesProvider(Provider):
    scope = Scope.APP

    @provide
    def authenticate(self, keys: ApiKeyRepository, plans: PlanBook, clock: Clock, settings: Settings) -> Authenticate:
        return Authenticate(keys, plans, clock, settings.key_pepper, settings.key_cache_seconds)

    @provide
    def access_caches(self, authenticate: Authenticate, sessions: ResolveSession) -> AccessCaches:
        # One pair per process: a revocation or ban made here reaches the caches that serve here.
        return AccessCaches(authenticate, sessions)

    @provide
    def issue_key(
        self, accounts: AccountRepository, keys: ApiKeyRepository, clock: Clock, settings: Settings
    ) -> IssueApiKey:
        return IssueApiKey(accounts, keys, clock, settings.key_pepper, settings.max_active_keys)

    @provide
    def generate_images(
        self,
        meter: Meter,
        upstream: Upstream,
        tasks: BackgroundTasks,
        images: ImageStore,
        clock: Clock,
        settings: Settings,
    ) -> GenerateImages:
        return GenerateImages(meter, upstream, tasks, images, clock, settings.image_ttl_seconds)

    @provide
    def open_web_session(self, sessions: SessionStore, clock: Clock, settings: Settings) -> OpenWebSession:
        return OpenWebSession(sessions, clock, timedelta(days=settings.session_days))

    @provide
    def resolve_session(
        self, sessions: SessionStore, accounts: AccountRepository, clock: Clock, settings: Settings
    ) -> ResolveSession:
        # An account is cached as long as a key is: a ban reaches sessions and keys at the same time.
        lifetime = timedelta(days=settings.session_days)
        return ResolveSession(sessions, accounts, clock, lifetime, settings.key_cache_seconds)

    throttle = provide(AttemptThrottle)
    sign_in = provide(SignIn)
    sign_up = provide(SignUp)
    sign_out = provide(SignOut)
    sign_out_everywhere = provide(SignOutEverywhere)
    set_password = provide(SetPassword)
    change_password = provide(ChangePassword)
    list_keys_with_use = provide(ListKeysWithUse)

    @provide
    def issue_codes(self, codes: RedemptionCodeStore, clock: Clock, settings: Settings) -> IssueRedemptionCodes:
        return IssueRedemptionCodes(codes, clock, settings.key_pepper)

    @provide
    def redeem_code(
        self,
        codes: RedemptionCodeStore,
        ledger: CreditLedger,
        credits: CreditAdmin,
        clock: Clock,
        settings: Settings,
    ) -> RedeemCode:
        return RedeemCode(codes, ledger, credits, clock, settings.key_pepper)

    list_codes = provide(ListRedemptionCodes)
    revoke_code = provide(RevokeRedemptionCode)
    credit_packages = provide(ListCreditPackages)
    start_checkout = provide(StartCheckout)
    payment_webhook = provide(HandlePaymentWebhook)
    show_credits = provide(ShowCredits)
    fetch_image = provide(FetchImage)
    purge_images = provide(PurgeExpiredImages)
    set_limits = provide(SetAccountLimits)
    charged = provide(ProxyChargedRequest)
    moderate = provide(ProxyModerationRequest)
    reconcile_leases = provide(ReconcileLeases)
    list_leases = provide(ListLeases)
    proxy = provide(ProxyModelRequest)
    stream = provide(StreamModelRequest)
    stats = provide(GetAccountStats)
    describe_key = provide(DescribeKey)
    create_account = provide(CreateAccount)
    find_account = provide(FindAccount)
    ban = provide(SetAccountBanned)
    list_keys = provide(ListApiKeys)
    revoke_key = provide(RevokeApiKey)
    grant = provide(GrantCredits)
    deduct = provide(DeductCredits)
    list_accounts = provide(ListAccounts)
    describe_account = provide(DescribeAccount)
    summarize_usage = provide(SummarizeUsage)
    forward = provide(ForwardModelCall)
    # the dashboard's own pages
    limit_state = provide(ReadLimitState)
    overview = provide(ShowOverview)
    usage_page = provide(ShowUsage)
    allowed_models = provide(ListAllowedModels)
    docs = provide(PrepareDocs)
