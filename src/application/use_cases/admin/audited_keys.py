from application.use_cases.api_keys import RevokeApiKey
from application.use_cases.audit import RecordAuditEntry
from domain.audit import Actor, AuditAction, clean_reason
from domain.keys import ApiKey


class AuditedRevokeKey:
    """Revokes any account's key and writes it to the audit log (a key revoked before: nothing)."""

    def __init__(self, inner: RevokeApiKey, audit: RecordAuditEntry) -> None:
        self._inner = inner
        self._audit = audit

    async def execute(self, actor: Actor, key_id: str, reason: str = "") -> tuple[ApiKey, bool]:
        reason = clean_reason(reason)
        key, changed = await self._inner.execute(key_id)
        if changed and key.revoked_at is not None:
            await self._audit.execute(
                actor,
                AuditAction.KEY_REVOKE,
                key.id,
                before={"revoked_at": None},
                after={"revoked_at": key.revoked_at.isoformat(timespec="seconds")},
                reason=reason,
                target_label=f"{key.name} ({key.prefix}...)",
                account_id=key.account_id,
            )
        return key, changed
