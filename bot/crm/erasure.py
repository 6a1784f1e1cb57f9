"""Erasing a person from the CRM: what the adapters' ``erase`` calls get and answer.

Each outside CRM delivery of a lead (an outbox entry) becomes a :class:`CRMRecord`: the
lead id (the external id the adapters upsert by), the CRM's own id and the ids remembered in
the delivery's progress. An adapter's ``erase`` deletes what it created and answers
``erased`` or ``not_found`` (a 404: already gone, which is fine); anything else raises
:class:`~bot.crm.base.DeliveryError` (``retryable`` for 5xx, 429 and timeouts), which the
privacy service reports and keeps for the next ``privacy erase`` run.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

ERASED = "erased"
NOT_FOUND = "not_found"


@dataclass(frozen=True)
class CRMRecord:
    """One lead's records in one CRM, by opaque ids only (no personal data)."""

    target: str
    """The outbox kind: ``crm:hubspot``, ``crm:salesforce``, ``crm:webhook``."""
    lead_id: str
    crm_id: str | None = None
    progress: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        """Return the record as plain JSON (kept in ``privacy_requests`` while owed)."""
        return {
            "target": self.target,
            "lead_id": self.lead_id,
            "crm_id": self.crm_id,
            "progress": {k: v for k, v in self.progress.items() if k in PROGRESS_IDS},
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> CRMRecord:
        """Read a record written by :meth:`to_json`."""
        return cls(
            target=str(data["target"]),
            lead_id=str(data["lead_id"]),
            crm_id=str(data["crm_id"]) if data.get("crm_id") else None,
            progress=dict(data.get("progress") or {}),
        )


PROGRESS_IDS = frozenset({"contact_id", "deal_id", "note_id"})
"""Keys of a delivery's progress that name records in the CRM (opaque ids)."""


class ErasableCRM(Protocol):
    """A CRM adapter that can delete what it delivered."""

    name: str

    def erase(self, record: CRMRecord, email: str) -> str:
        """Delete the lead's records; return ``erased`` or ``not_found``, else raise."""
        ...
