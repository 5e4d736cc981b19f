"""Min side access: the personal access code on each letter and the personal link in each
e-mail. The KID is only the payment reference and opens nothing.

Code
    10 characters from :data:`ALPHABET` (digits and capitals without 0/O, 1/I/L, so nothing
    on paper is ambiguous): 31**10 ≈ 8·10**14 codes, 49.5 bits, shown ``K7QXM-4TPR2``.
    :func:`secrets.choice` picks each character.

Stored hashed
    Only ``HMAC-SHA256(SECRET_KEY, salt:code)`` with a random per-code salt
    (:func:`django.utils.crypto.salted_hmac`) is stored — not Django's password hashers: a
    code of ≈ 50 random bits needs no key stretching (nobody can try 10**14 HMACs online past
    the limits, and offline they would need the ``SECRET_KEY`` too), and a login compares a
    handful of codes per case, which a slow hasher would make slow for every visitor. Keys in
    ``SECRET_KEY_FALLBACKS`` are tried too, so rotating the key does not lock debtors out.
    The plaintext exists only while the letter is rendered (it is printed in the PDF) or while
    a case handler's «Lag ny kode» page is shown.

Link
    ``/min-side/lenke/?token=…``: :func:`django.core.signing.dumps` over the case id and the
    :class:`~collections_cases.models.PortalAccess` id with its own salt, valid
    :data:`LINK_MAX_AGE`. It is not a secret we keep: anyone holding ``SECRET_KEY`` can make it,
    no one else can, and it dies with its access row (revoked, or rotated out). The query
    parameter ``token`` is redacted from every log (:mod:`kravia_web.log_redaction`) and the
    view redirects to a token-free URL at once.

Which codes are valid (several at once)
    Each letter gets its own code when its PDF is first rendered
    (:func:`collections_cases.letters.documents.letters.letter_pdf`). A debtor keeps the letter they
    have, not necessarily the newest, so the newest :data:`KEEP_VALID` codes of a case stay
    valid; issuing a newer one revokes the rest. A **re-sent** letter gets a new code on a
    copy of its own and the letter's earlier code is revoked (a letter is re-sent because it
    went astray: the stray copy must stop working). A case handler can revoke every code of a
    case and issue a new one to read out on the phone.
"""

from __future__ import annotations

import hmac
import re
import secrets
from dataclasses import dataclass

from django.conf import settings
from django.core import signing
from django.db import transaction
from django.utils import timezone
from django.utils.crypto import salted_hmac
from django.utils.translation import gettext as _

from collections_cases.cases import changes
from collections_cases.models import CaseEvent, CollectionCase, Letter, LetterDelivery, PortalAccess

#: No 0/O, 1/I/L: nothing a reader can mistake on paper or hear wrong on the phone.
ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
CODE_LENGTH = 10
GROUP = 5
#: The newest codes of a case that stay valid (one per recent letter).
KEEP_VALID = 3
LINK_MAX_AGE = 120 * 24 * 60 * 60
LINK_SALT = "collections_cases.portal.link"
HMAC_SALT = "collections_cases.portal.access_code"
#: Hashed when the case number is unknown, so a miss costs what a hit costs.
_STAND_IN_SALT = "0" * 32

Source = PortalAccess.Source


@dataclass(frozen=True)
class IssuedCode:
    """A new access row and its code in plaintext — print or show it, never store it."""

    access: PortalAccess
    code: str

    @property
    def display(self) -> str:
        return code_display(self.code)


def code_generate() -> str:
    return "".join(secrets.choice(ALPHABET) for _ in range(CODE_LENGTH))


def code_display(code: str) -> str:
    """``K7QXM4TPR2`` → ``K7QXM-4TPR2``."""
    return "-".join(code[i : i + GROUP] for i in range(0, len(code), GROUP))


def code_normalise(value: str) -> str:
    """What the debtor typed, without spaces, dashes or dots, in capitals."""
    return re.sub(r"[\s.\-–]+", "", value or "").upper()


def _secrets() -> list[str]:
    return [settings.SECRET_KEY, *getattr(settings, "SECRET_KEY_FALLBACKS", [])]


def code_hash(code: str, salt: str, *, secret: str | None = None) -> str:
    return salted_hmac(HMAC_SALT, f"{salt}:{code}", secret=secret, algorithm="sha256").hexdigest()


def code_matches(access: PortalAccess, code: str) -> bool:
    found = False
    for secret in _secrets():
        expected = code_hash(code, access.salt, secret=secret)
        found |= hmac.compare_digest(expected.encode(), access.code_hash.encode())
    return found


# --- issuing and revoking ---------------------------------------------------------------------


def _revoke(queryset, *, reason: str, actor=None) -> int:
    return queryset.valid().update(
        revoked_at=timezone.now(),
        revoked_by=actor if getattr(actor, "pk", None) else None,
        revoke_reason=reason[:300],
    )


def access_issue(
    *,
    case: CollectionCase,
    source: str = Source.LETTER,
    letter: Letter | None = None,
    delivery: LetterDelivery | None = None,
    actor=None,
    replaces_letter_codes: bool = False,
) -> IssuedCode:
    """A new code for ``case``; the case's codes beyond the newest :data:`KEEP_VALID` are
    revoked (with ``replaces_letter_codes`` also every earlier code of ``letter``)."""
    code = code_generate()
    salt = secrets.token_hex(16)
    with transaction.atomic():
        access = PortalAccess.objects.create(
            case=case,
            letter=letter,
            delivery=delivery,
            source=source,
            salt=salt,
            code_hash=code_hash(code, salt),
            created_by=actor if getattr(actor, "pk", None) else None,
        )
        if replaces_letter_codes and letter is not None:
            _revoke(
                PortalAccess.objects.filter(letter=letter).exclude(pk=access.pk),
                reason=_("Erstattet: brevet ble sendt på nytt med ny kode."),
            )
        older = PortalAccess.objects.filter(case=case).valid().order_by("-created_at", "-pk")
        stale = list(older.values_list("pk", flat=True)[KEEP_VALID:])
        if stale:
            _revoke(
                PortalAccess.objects.filter(pk__in=stale),
                reason=_("Erstattet av nyere brev."),
            )
    return IssuedCode(access=access, code=code)


def access_discard(access: PortalAccess) -> None:
    """A code that was never printed (a render that lost the race to store its PDF)."""
    _revoke(PortalAccess.objects.filter(pk=access.pk), reason=_("Ikke brukt."))


def access_revoke_case(*, case: CollectionCase, actor, reason: str) -> int:
    """A case handler closes Min side for the case: every valid code and link stops working
    (open sessions too: each page checks its access). A case event records who and why."""
    from collections_cases.cases import services as case_services

    with transaction.atomic():
        case = case_services.case_lock(case_id=case.pk)
        count = _revoke(case.portal_accesses.all(), reason=reason, actor=actor)
        changes.record_event(
            case,
            kind=CaseEvent.Kind.PORTAL_ACCESS,
            actor=actor,
            message=_("Min side-tilgangen er stengt (%(count)d kode(r)): %(reason)s")
            % {"count": count, "reason": reason},
            data={"revoked": count},
        )
    return count


def access_issue_by_handler(*, case: CollectionCase, actor, reason: str = "") -> IssuedCode:
    """A case handler makes a new code (to read out on the phone); shown once, recorded as a
    case event without the code."""
    from collections_cases.cases import services as case_services

    with transaction.atomic():
        case = case_services.case_lock(case_id=case.pk)
        issued = access_issue(case=case, source=Source.HANDLER, actor=actor)
        message = _("Ny Min side-kode laget av saksbehandler.")
        if reason:
            message = f"{message} {reason}"
        changes.record_event(
            case,
            kind=CaseEvent.Kind.PORTAL_ACCESS,
            actor=actor,
            message=message,
            data={"access_id": issued.access.pk},
        )
    return issued


def letter_access(letter: Letter) -> PortalAccess | None:
    """The valid code printed on the letter's stored PDF (issued at its first render)."""
    return (
        PortalAccess.objects.valid()
        .filter(letter=letter, delivery__isnull=True, source=Source.LETTER)
        .order_by("-created_at", "-pk")
        .first()
    )


# --- the link ---------------------------------------------------------------------------------


def link_token(access: PortalAccess) -> str:
    return signing.dumps({"c": access.case_id, "a": access.pk}, salt=LINK_SALT, compress=True)


def link_url(access: PortalAccess) -> str:
    from django.urls import reverse

    return f"{settings.SITE_URL.rstrip('/')}{reverse('portal_link')}?token={link_token(access)}"


def link_access(token: str) -> PortalAccess | None | bool:
    """The valid access the link names; ``None`` for a link that was genuine but whose code is
    no longer valid (revoked, or expired); ``False`` for a token we did not sign."""
    try:
        data = signing.loads(token or "", salt=LINK_SALT, max_age=LINK_MAX_AGE)
    except signing.SignatureExpired:
        return None
    except signing.BadSignature:
        return False
    if not isinstance(data, dict):
        return False
    access = (
        PortalAccess.objects.valid()
        .filter(pk=data.get("a"), case_id=data.get("c"))
        .select_related("case")
        .first()
    )
    return access


# --- the code form ----------------------------------------------------------------------------


def code_access(*, number: str, code: str) -> PortalAccess | None:
    """The valid access of case ``number`` whose code is ``code``, or None. An unknown number
    costs one HMAC like a known one."""
    code = code_normalise(code)
    candidates = list(
        PortalAccess.objects.valid().filter(case__number=number).select_related("case")
    )
    if not candidates:
        code_hash(code, _STAND_IN_SALT)
        return None
    match = None
    for access in candidates:
        if code_matches(access, code) and match is None:
            match = access
    return match


def access_is_valid(access_id, case_id) -> bool:
    return PortalAccess.objects.valid().filter(pk=access_id, case_id=case_id).exists()


def access_mark_used(access: PortalAccess) -> None:
    PortalAccess.objects.filter(pk=access.pk).update(last_used_at=timezone.now())
