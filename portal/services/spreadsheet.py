"""CSV cells a spreadsheet will not run as formulas (CSV injection), for every export."""

from __future__ import annotations

FORMULA_LEADS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: str) -> str:
    """Text that a spreadsheet would read as a formula gets a leading quote, shown as text."""
    return "'" + value if value[:1] in FORMULA_LEADS else value
