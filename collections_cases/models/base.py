"""What the models of the case app share: money fields and append-only rows."""

from django.db import models
from django.db.models import Value

from kravia_web.money import MONEY_DECIMAL_PLACES, MONEY_MAX_DIGITS

ZERO = Value(0, output_field=models.DecimalField(max_digits=MONEY_MAX_DIGITS, decimal_places=2))


def money_field(verbose_name, **kwargs):
    return models.DecimalField(
        verbose_name,
        max_digits=MONEY_MAX_DIGITS,
        decimal_places=MONEY_DECIMAL_PLACES,
        **kwargs,
    )


class AppendOnlyError(Exception):
    """A row of an append-only table was about to be changed or deleted."""


class AppendOnlyQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise AppendOnlyError(f"{self.model.__name__} rows cannot be changed")

    def delete(self):
        raise AppendOnlyError(f"{self.model.__name__} rows cannot be deleted")


class AppendOnlyModel(models.Model):
    """Rows are written once: ``save()`` of an existing row and ``delete()`` refuse.

    Corrections are new rows (a reversing ledger entry, a new event), so the history stays
    complete — the audit trail the inkasso rules expect.
    """

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise AppendOnlyError(f"{type(self).__name__} rows cannot be changed")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AppendOnlyError(f"{type(self).__name__} rows cannot be deleted")
