from datetime import datetime

from application.use_cases.audit import RecordAuditEntry
from application.use_cases.redemption_codes import IssueRedemptionCodes, RevokeRedemptionCode
from domain.audit import Actor, AuditAction, clean_reason
from domain.redemption import IssuedCode, RedemptionCode


def _stamp(moment: datetime | None) -> str | None:
    return moment.isoformat(timespec="seconds") if moment else None


class AuditedIssueCodes:
    """Issues redemption codes and writes one audit entry naming them (their ids, never the codes)."""

    def __init__(self, inner: IssueRedemptionCodes, audit: RecordAuditEntry) -> None:
        self._inner = inner
        self._audit = audit

    async def execute(
        self,
        actor: Actor,
        credits_micros: int,
        *,
        max_uses: int = 1,
        count: int = 1,
        expires_at: datetime | None = None,
        reason: str = "",
    ) -> list[IssuedCode]:
        reason = clean_reason(reason)
        issued = await self._inner.execute(
            credits_micros, max_uses=max_uses, count=count, expires_at=expires_at, created_by=actor.label
        )
        ids = [i.code.id for i in issued]
        await self._audit.execute(
            actor,
            AuditAction.CODES_ISSUE,
            ids[0] if len(ids) == 1 else f"{len(ids)} codes",
            before={},
            after={
                "ids": ids,  # type: ignore[dict-item]
                "credits_micros": credits_micros,
                "max_uses": max_uses,
                "expires_at": _stamp(expires_at),
            },
            reason=reason,
        )
        return issued


class AuditedRevokeCode:
    """Revokes a redemption code and writes it to the audit log (a code revoked before: nothing)."""

    def __init__(self, inner: RevokeRedemptionCode, audit: RecordAuditEntry) -> None:
        self._inner = inner
        self._audit = audit

    async def execute(self, actor: Actor, code_id: str, reason: str = "") -> tuple[RedemptionCode, bool]:
        reason = clean_reason(reason)
        code, changed = await self._inner.execute(code_id)
        if changed:
            await self._audit.execute(
                actor,
                AuditAction.CODE_REVOKE,
                code.id,
                before={"revoked_at": None},
                after={"revoked_at": _stamp(code.revoked_at)},
                reason=reason,
            )
        return code, changed
