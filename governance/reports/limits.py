"""The thresholds the reports measure against: fields of the current editorial policy version
(the board's weekly review capacity, the spread window, the age after which evidence is old),
which the managing editor publishes in the admin; defaults 10 a week, 28 days, 10 years."""

from __future__ import annotations

from dataclasses import dataclass

from governance.models import EditorialPolicy
from governance.workflow.selectors import current_editorial_policy


@dataclass(frozen=True)
class ReportLimits:
    """The thresholds the reports measure against, from the current editorial policy version
    (`policy_version` None: no version published yet, the model's defaults apply)."""

    capacity: int
    window_days: int
    evidence_max_age_years: int
    policy_version: str | None = None
    policy_id: int | None = None

    @property
    def capacity_text(self) -> str:
        return f"capacity {self.capacity}/week"

    @property
    def spread_text(self) -> str:
        return f"capacity {self.capacity}/week and a window of {self.window_days} days"

    @property
    def age_text(self) -> str:
        return f"evidence older than {self.evidence_max_age_years} years"


def _field_default(name: str) -> int:
    return int(EditorialPolicy._meta.get_field(name).default)


def report_limits() -> ReportLimits:
    """One query: the current editorial policy's capacity, spread window and evidence age."""
    policy = current_editorial_policy()
    if policy is None:
        return ReportLimits(capacity=_field_default("weekly_review_capacity"),
                            window_days=_field_default("review_spread_window_days"),
                            evidence_max_age_years=_field_default("evidence_max_age_years"))
    return ReportLimits(capacity=policy.weekly_review_capacity, window_days=policy.review_spread_window_days,
                        evidence_max_age_years=policy.evidence_max_age_years, policy_version=policy.version,
                        policy_id=policy.pk)
