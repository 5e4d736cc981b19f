"""Serializer building blocks shared by every app's ``serializers.py``."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from kravia_web.money import MONEY_DECIMAL_PLACES, MONEY_MAX_DIGITS


def money(**kwargs):
    """An amount in NOK as a string with two decimals (``"1234.50"``)."""
    return serializers.DecimalField(
        max_digits=MONEY_MAX_DIGITS,
        decimal_places=MONEY_DECIMAL_PLACES,
        coerce_to_string=True,
        **kwargs,
    )


class StrictSerializer(serializers.Serializer):
    """Input serializer that rejects fields it does not know (a typo is a 400, not a no-op)."""

    def to_internal_value(self, data):
        if hasattr(data, "keys"):
            unknown = set(data.keys()) - set(self.fields)
            if unknown:
                raise serializers.ValidationError(
                    {name: [_("Ukjent felt.")] for name in sorted(unknown)}
                )
        return super().to_internal_value(data)


class PageQuerySerializer(StrictSerializer):
    """The query parameters of a cursor-paginated list."""

    cursor = serializers.CharField(required=False)
    page_size = serializers.IntegerField(required=False, min_value=1)
