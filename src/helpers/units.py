"""Units and conversions shared by the clinical tables, the integration and the simulator."""

from __future__ import annotations

__all__ = ["DAYS_PER_MONTH"]

#: Mean Julian month (365.25 / 12 days): the convention of survival tables that report months from dates.
DAYS_PER_MONTH = 30.4375
