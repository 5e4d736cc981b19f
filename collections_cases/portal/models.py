"""The debtor portal's access links and codes."""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from collections_cases.cases.models import CollectionCase
from collections_cases.letters.models import Letter, LetterDelivery


class PortalAccessQuerySet(models.QuerySet):
    def valid(self):
        return self.filter(revoked_at__isnull=True)


class PortalAccess(models.Model):
    """One way into Min side for one case (:mod:`collections_cases.portal.access`): the access
    code printed on a letter (or read out by a case handler) and the personal link, a signed
    token over this row's id. Only an HMAC of the code is stored, never the code.

    Valid until revoked: by a case handler, by a re-send of its letter (the new copy gets a
    new code) or when the case gets a newer code and this one is no longer among the newest
    :data:`~collections_cases.portal.access.KEEP_VALID` (a debtor holding one of the last few
    letters can still log in).
    """

    class Source(models.TextChoices):
        LETTER = "letter", _("Brev")
        HANDLER = "handler", _("Saksbehandler")

    case = models.ForeignKey(
        CollectionCase,
        on_delete=models.PROTECT,
        related_name="portal_accesses",
        verbose_name=_("sak"),
    )
    letter = models.ForeignKey(
        Letter,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="portal_accesses",
        verbose_name=_("brev"),
    )
    delivery = models.ForeignKey(
        LetterDelivery,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="portal_accesses",
        verbose_name=_("utsending"),
    )
    source = models.CharField(
        _("kilde"), max_length=10, choices=Source.choices, default=Source.LETTER
    )
    salt = models.CharField(_("salt"), max_length=32)
    code_hash = models.CharField(_("kode (HMAC)"), max_length=64)
    created_at = models.DateTimeField(_("laget"), default=timezone.now)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("laget av"),
    )
    last_used_at = models.DateTimeField(_("sist brukt"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("stengt"), null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("stengt av"),
    )
    revoke_reason = models.CharField(_("hvorfor stengt"), max_length=300, blank=True)

    objects = PortalAccessQuerySet.as_manager()

    class Meta:
        verbose_name = _("Min side-tilgang")
        verbose_name_plural = _("Min side-tilganger")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["case", "revoked_at"], name="portal_access_case_idx"),
        ]

    def __str__(self):
        return f"{self.case} · {self.get_source_display()} {self.created_at:%d.%m.%Y}"

    @property
    def is_valid(self) -> bool:
        return self.revoked_at is None
