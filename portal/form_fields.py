"""Form fields shared by the blueprint forms."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import IntegerField
from wtforms.validators import StopValidation

from portal.web import MAX_ID


class IdField(IntegerField):
    """A number naming a row. One no row can have (zero, negative, beyond a bigint) is a field
    error before any validator looks it up: the database would raise instead of finding nothing."""

    def pre_validate(self, form) -> None:
        if self.data is not None and not 1 <= self.data <= MAX_ID:
            raise StopValidation(_l("There is nothing with this number."))
