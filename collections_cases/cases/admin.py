"""Admin for case handlers. A case's state changes only through the services: the case page is
read-only, and the actions ask for a reason and call the service for each selected case."""

import logging
from zoneinfo import ZoneInfo

from django.conf import settings
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError
from django.http import HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.cache import add_never_cache_headers
from django.utils.html import format_html
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from collections_cases.cases import limitation, page_selectors
from collections_cases.cases import services as case_services
from collections_cases.cases.admin_forms import (
    CloseTimeBarredForm,
    InterruptionForm,
    LegalStepForm,
    LimitationFilter,
    NewPortalCodeForm,
    PauseForm,
    ReasonForm,
)
from collections_cases.cases.staff_queue import StaffQueueFilter
from collections_cases.dashboard.rule_warnings import rule_table_warnings
from collections_cases.dunning import services as dunning
from collections_cases.models import (
    CaseEvent,
    CollectionCase,
    Invoice,
    LedgerEntry,
    Letter,
    PortalAccess,
)
from collections_cases.portal import access as portal_access
from creditors.admin import CreditorAdmin
from kravia_web.errors import ApplicationError
from kravia_web.money import format_nok

logger = logging.getLogger(__name__)

OSLO = ZoneInfo("Europe/Oslo")


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False
    show_change_link = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class CaseEventInline(ReadOnlyInline):
    model = CaseEvent
    # The message is the readable account; ``data`` (JSON, for the API and audit) stays out.
    fields = ["at", "kind", "message", "actor_label", "status_from", "status_to"]
    readonly_fields = fields
    ordering = ["-at", "-id"]


class LedgerEntryInline(ReadOnlyInline):
    model = LedgerEntry
    fields = ["booked_on", "kind", "amount", "invoice", "description", "created_by"]
    readonly_fields = fields


class LetterInline(ReadOnlyInline):
    model = Letter
    fields = ["kind", "step", "sent_on", "deadline", "fee", "status"]
    readonly_fields = fields
    ordering = ["sent_on", "id"]


class InvoiceInline(ReadOnlyInline):
    model = Invoice
    fields = ["invoice_no", "invoice_date", "due_date", "total_amount", "balance", "cid"]
    readonly_fields = fields


class PortalAccessInline(ReadOnlyInline):
    """The case's Min side codes (never the code: only when and how each was made and
    whether it still works)."""

    model = PortalAccess
    fields = [
        "created_at",
        "source",
        "letter",
        "delivery",
        "created_by",
        "last_used_at",
        "revoked_at",
        "revoked_by",
        "revoke_reason",
    ]
    readonly_fields = fields
    ordering = ["-created_at", "-id"]
    verbose_name_plural = _("Min side-tilganger (kodene selv lagres ikke)")


@admin.register(CollectionCase)
class CollectionCaseAdmin(admin.ModelAdmin):
    # Fits 1 280 px beside the filters: the stage shows in the next step, the creditor by name.
    list_display = [
        "number",
        "creditor_name",
        "debtor",
        "status",
        "next_step_display",
        "balance_display",
        "limitation_display",
    ]
    # Django's «Show counts» toggle has no Norwegian text; the queue's counts are on the
    # front page.
    show_facets = admin.ShowFacets.NEVER
    list_filter = [
        StaffQueueFilter,
        "status",
        "stage",
        "next_action",
        LimitationFilter,
        "creditor",
        "next_action_date",
    ]
    change_list_template = "admin/collections_cases/collectioncase/change_list.html"
    search_fields = ["number", "kid", "debtor__name", "invoices__invoice_no__exact"]
    date_hierarchy = "created_at"
    list_select_related = ["creditor", "debtor"]
    inlines = [
        InvoiceInline,
        LetterInline,
        LedgerEntryInline,
        PortalAccessInline,
        CaseEventInline,
    ]
    actions = [
        "run_next_step_now",
        "run_next_step_early",
        "pause_cases",
        "resume_cases",
        "withdraw_cases",
        "mark_cases_disputed",
        "resolve_disputes",
        "add_note",
        "approve_legal_steps",
        "record_legal_step",
        "record_limitation_interruption",
        "close_time_barred",
        "revoke_portal_access",
        "issue_portal_code",
    ]
    fieldsets = (
        (None, {"fields": ("number", "kid", "creditor", "debtor", "pogo_case_id")}),
        (
            _("Status"),
            {
                "fields": (
                    "status",
                    "stage",
                    "approval_kind",
                    "next_action",
                    "next_action_date",
                    "limitation_date",
                    "limitation_interrupted_on",
                    "balance_display",
                )
            },
        ),
        (
            _("På vent, innsigelse og avslutning"),
            {
                "fields": (
                    "pause_reason",
                    "paused_until",
                    "held_status",
                    "held_next_action",
                    "held_next_action_date",
                    "dispute_reason",
                    "legal_approved_at",
                    "close_reason",
                    "close_note",
                    "closed_at",
                )
            },
        ),
        (_("Datoer"), {"fields": ("created_at", "updated_at")}),
    )

    def get_queryset(self, request):
        return super().get_queryset(request).with_balance()

    change_form_template = "admin/collections_cases/collectioncase/change_form.html"

    #: The buttons on the case page (each an action above, for this one case). The reason
    #: field on the page is the action's reason (or note); actions that need more ask on the
    #: next page.
    CASE_PAGE_ACTIONS = {
        "run_next_step_early": _("Kjør neste steg nå"),
        "pause_cases": _("Sett på vent"),
        "resume_cases": _("Gjenoppta"),
        "resolve_disputes": _("Avklar innsigelsen"),
        "mark_cases_disputed": _("Merk som omtvistet"),
        "approve_legal_steps": _("Godkjenn rettslige tiltak"),
        "record_legal_step": _("Registrer at rettslig tiltak er startet"),
        "withdraw_cases": _("Trekk tilbake"),
        "add_note": _("Legg til notat"),
        "record_limitation_interruption": _("Registrer avbrudd av foreldelsen"),
    }

    #: Case page buttons whose action asks for more than the reason field gives.
    CASE_PAGE_FORM_FIRST = frozenset({"record_limitation_interruption", "record_legal_step"})

    def get_urls(self):
        return [
            path(
                "<int:object_id>/handling/",
                self.admin_site.admin_view(self.case_action_view),
                name="collections_cases_collectioncase_handle",
            ),
            *super().get_urls(),
        ]

    def case_action_view(self, request, object_id: int):
        """One of :data:`CASE_PAGE_ACTIONS` for one case, from its page; back to the page."""
        action = request.POST.get("action", "")
        if request.method != "POST" or action not in self.CASE_PAGE_ACTIONS:
            return HttpResponseRedirect(
                reverse("admin:collections_cases_collectioncase_change", args=[object_id])
            )
        if not self.has_change_permission(request):
            raise PermissionDenied
        queryset = self.get_queryset(request).filter(pk=object_id)
        if action in self.CASE_PAGE_FORM_FIRST and "from_case_page" in request.POST:
            # Its own form (a kind and a date, not a reason): show it, empty, first.
            request.POST = request.POST.copy()
            request.POST.pop("apply", None)
        response = getattr(self, action)(request, queryset)
        if response is not None:
            return response
        return HttpResponseRedirect(
            reverse("admin:collections_cases_collectioncase_change", args=[object_id])
        )

    def change_view(self, request, object_id, form_url="", extra_context=None):
        actions = self.get_actions(request)
        case = self.get_object(request, object_id)
        extra_context = {
            **(extra_context or {}),
            "amounts": page_selectors.case_breakdown(case) if case else None,
            "case_actions": [
                (name, label) for name, label in self.CASE_PAGE_ACTIONS.items() if name in actions
            ],
            # Read-only page: changes go through the buttons above, never «Lagre».
            "show_save": False,
            "show_save_and_continue": False,
            "show_save_and_add_another": False,
            "case_action_url": reverse(
                "admin:collections_cases_collectioncase_handle", args=[object_id]
            ),
        }
        return super().change_view(request, object_id, form_url, extra_context)

    def get_readonly_fields(self, request, obj=None):
        # Every change goes through a service (lock, transition table, event).
        return [f.name for f in self.model._meta.fields] + ["balance_display"]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description=_("kreditor"), ordering="creditor__name")
    def creditor_name(self, obj):
        return obj.creditor.name

    @admin.display(description=_("neste steg"), ordering="next_action_date")
    def next_step_display(self, obj):
        if not obj.next_action:
            return "–"
        if obj.next_action_date is None:
            return obj.get_next_action_display()
        return f"{obj.get_next_action_display()} {obj.next_action_date:%d.%m.%Y}"

    @admin.display(description=_("saldo"), ordering="balance")
    def balance_display(self, obj):
        return format_nok(getattr(obj, "balance", None))

    @admin.display(description=_("foreldelsesdato"), ordering="limitation_date")
    def limitation_display(self, obj):
        """The date, flagged when it is reached or within 60 days on an open case."""
        if obj.limitation_date is None:
            return "–"
        text = obj.limitation_date.strftime("%d.%m.%Y")
        if not obj.is_open:
            return text
        today = timezone.localdate()
        if obj.limitation_date <= today:
            return format_html(
                '<strong class="limitation-passed">{} ({})</strong>', text, gettext("foreldet")
            )
        if (obj.limitation_date - today).days <= limitation.WARNING_DAYS:
            return format_html(
                '<strong class="limitation-soon">{} ({})</strong>', text, gettext("snart")
            )
        return text

    def changelist_view(self, request, extra_context=None):
        today = timezone.localdate()
        extra_context = {
            **(extra_context or {}),
            "rule_warnings": rule_table_warnings(on=today, staff=True),
            "limitation_passed_count": limitation.limitation_passed_cases(on=today).count(),
            "limitation_soon_count": limitation.limitation_warning_cases(on=today).count(),
            "limitation_days": limitation.WARNING_DAYS,
        }
        return super().changelist_view(request, extra_context=extra_context)

    # Actions ------------------------------------------------------------------------------

    def _apply(self, request, queryset, call, *, done_message, error_message=None):
        done = 0
        for case in queryset:
            try:
                call(case)
            except ApplicationError as exc:
                text = error_message(case, exc.message) if error_message else exc.message
                self.message_user(request, text, messages.ERROR)
            else:
                done += 1
        if done and done_message:
            self.message_user(request, done_message(done), messages.SUCCESS)

    def _with_form(
        self, request, queryset, *, form_class, title, call, done_message, error_message=None
    ):
        """Show a page asking for the reason; on submit, call the service for each case."""
        if "apply" in request.POST:
            form = form_class(request.POST)
            if form.is_valid():
                self._apply(
                    request,
                    queryset,
                    lambda case: call(case, form.cleaned_data),
                    done_message=done_message,
                    error_message=error_message,
                )
                return None
        else:
            form = form_class()
        context = {
            **self.admin_site.each_context(request),
            "title": title,
            "form": form,
            "cases": queryset,
            "action": request.POST.get("action", ""),
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
            "opts": self.model._meta,
        }
        return TemplateResponse(
            request, "admin/collections_cases/collectioncase/action_reason.html", context
        )

    @admin.action(description=_("Kjør neste steg nå"))
    def run_next_step_now(self, request, queryset):
        """The dunning run's due step for each selected case, today (Europe/Oslo); one
        message per case. A refused or failing case is reported, never a server error."""
        today = timezone.localdate(timezone=OSLO)
        for case in queryset:
            try:
                outcome = dunning.dunning_case_step(case=case, on=today)
            except ApplicationError as exc:
                self.message_user(
                    request,
                    gettext("Sak %(number)s: %(error)s")
                    % {"number": case.number, "error": exc.message},
                    messages.ERROR,
                )
            except IntegrityError:
                self.message_user(
                    request,
                    gettext("Sak %(number)s: steget er allerede tatt av en annen kjøring.")
                    % {"number": case.number},
                    messages.WARNING,
                )
            except Exception:
                logger.exception("Admin: next step of case %s failed", case.pk)
                self.message_user(
                    request,
                    gettext("Sak %(number)s: neste steg feilet; se loggen.")
                    % {"number": case.number},
                    messages.ERROR,
                )
            else:
                if outcome is None:
                    self.message_user(
                        request,
                        gettext(
                            "Sak %(number)s: ingen steg forfaller %(date)s. Skal steget tas "
                            "før datoen, velg «Kjør neste steg nå, også før datoen (med årsak)»."
                        )
                        % {"number": case.number, "date": today.strftime("%d.%m.%Y")},
                        messages.WARNING,
                    )
                else:
                    label = dunning.OUTCOME_LABELS.get(outcome, outcome)
                    self.message_user(
                        request,
                        gettext("Sak %(number)s: %(outcome)s.")
                        % {"number": case.number, "outcome": label},
                        messages.SUCCESS,
                    )

    @admin.action(description=_("Kjør neste steg nå, også før datoen (med årsak)"))
    def run_next_step_early(self, request, queryset):
        """The next step today even when its date is later, with the reason recorded on the
        case; the legal holds (unverified creditor, time-barred claim, unknown rate) stay."""
        today = timezone.localdate(timezone=OSLO)

        def run_early(case, data):
            outcome = dunning.dunning_case_step_early(
                case=case, on=today, actor=request.user, reason=data["reason"]
            )
            self.message_user(
                request,
                gettext("Sak %(number)s: %(outcome)s.")
                % {"number": case.number, "outcome": dunning.OUTCOME_LABELS.get(outcome, outcome)},
                messages.WARNING
                if outcome == dunning.OUTCOME_HELD_TIME_BARRED
                else messages.SUCCESS,
            )

        def refused(case, exc):
            return gettext("Sak %(number)s: %(error)s") % {"number": case.number, "error": exc}

        return self._with_form(
            request,
            queryset,
            form_class=ReasonForm,
            title=_("Kjør neste steg før datoen"),
            call=run_early,
            done_message=None,
            error_message=refused,
        )

    @admin.action(description=_("Sett valgte saker på vent"))
    def pause_cases(self, request, queryset):
        return self._with_form(
            request,
            queryset,
            form_class=PauseForm,
            title=_("Sett saker på vent"),
            call=lambda case, data: case_services.case_pause(
                case=case, actor=request.user, reason=data["reason"], until=data["until"]
            ),
            done_message=lambda n: (
                ngettext("%(count)d sak er satt på vent.", "%(count)d saker er satt på vent.", n)
                % {"count": n}
            ),
        )

    @admin.action(description=_("Gjenoppta valgte saker"))
    def resume_cases(self, request, queryset):
        self._apply(
            request,
            queryset,
            lambda case: case_services.case_resume(case=case, actor=request.user),
            done_message=lambda n: (
                ngettext("%(count)d sak er gjenopptatt.", "%(count)d saker er gjenopptatt.", n)
                % {"count": n}
            ),
        )

    @admin.action(description=_("Trekk tilbake valgte saker"))
    def withdraw_cases(self, request, queryset):
        return self._with_form(
            request,
            queryset,
            form_class=ReasonForm,
            title=_("Trekk tilbake saker"),
            call=lambda case, data: case_services.case_withdraw(
                case=case, actor=request.user, reason=data["reason"]
            ),
            done_message=lambda n: (
                ngettext(
                    "%(count)d sak er trukket tilbake.", "%(count)d saker er trukket tilbake.", n
                )
                % {"count": n}
            ),
        )

    @admin.action(description=_("Merk valgte saker som omtvistet"))
    def mark_cases_disputed(self, request, queryset):
        return self._with_form(
            request,
            queryset,
            form_class=ReasonForm,
            title=_("Merk saker som omtvistet"),
            call=lambda case, data: case_services.case_mark_disputed(
                case=case, actor=request.user, reason=data["reason"]
            ),
            done_message=lambda n: (
                ngettext(
                    "%(count)d sak er merket som omtvistet.",
                    "%(count)d saker er merket som omtvistet.",
                    n,
                )
                % {"count": n}
            ),
        )

    @admin.action(description=_("Avklar innsigelsen: saken fortsetter"))
    def resolve_disputes(self, request, queryset):
        return self._with_form(
            request,
            queryset,
            form_class=ReasonForm,
            title=_("Avklar innsigelsen"),
            call=lambda case, data: case_services.case_resolve_dispute(
                case=case, actor=request.user, note=data["reason"]
            ),
            done_message=lambda n: (
                ngettext(
                    "Innsigelsen er avklart for %(count)d sak.",
                    "Innsigelsen er avklart for %(count)d saker.",
                    n,
                )
                % {"count": n}
            ),
        )

    @admin.action(description=_("Legg til notat"))
    def add_note(self, request, queryset):
        return self._with_form(
            request,
            queryset,
            form_class=ReasonForm,
            title=_("Legg til notat"),
            call=lambda case, data: case_services.case_add_note(
                case=case, actor=request.user, text=data["reason"]
            ),
            done_message=lambda n: (
                ngettext(
                    "Notatet er lagt til %(count)d sak.", "Notatet er lagt til %(count)d saker.", n
                )
                % {"count": n}
            ),
        )

    @admin.action(description=_("Godkjenn rettslige tiltak for valgte saker"))
    def approve_legal_steps(self, request, queryset):
        self._apply(
            request,
            queryset,
            lambda case: case_services.case_approve_legal(case=case, actor=request.user),
            done_message=lambda n: (
                ngettext(
                    "Rettslige tiltak er godkjent for %(count)d sak.",
                    "Rettslige tiltak er godkjent for %(count)d saker.",
                    n,
                )
                % {"count": n}
            ),
        )

    @admin.action(description=_("Registrer at rettslig tiltak er startet"))
    def record_legal_step(self, request, queryset):
        return self._with_form(
            request,
            queryset,
            form_class=LegalStepForm,
            title=_("Registrer at rettslig tiltak er startet"),
            call=lambda case, data: case_services.case_record_legal_step(
                case=case,
                actor=request.user,
                step=data["step"],
                on=data["on"],
                reference=data["reference"],
            ),
            done_message=lambda n: (
                ngettext(
                    "Rettslig tiltak er registrert for %(count)d sak.",
                    "Rettslig tiltak er registrert for %(count)d saker.",
                    n,
                )
                % {"count": n}
            ),
        )

    @admin.action(description=_("Registrer avbrudd av foreldelsen"))
    def record_limitation_interruption(self, request, queryset):
        return self._with_form(
            request,
            queryset,
            form_class=InterruptionForm,
            title=_("Registrer avbrudd av foreldelsen"),
            call=lambda case, data: limitation.case_record_limitation_interruption(
                case=case, on=data["on"], reason=data["reason"], actor=request.user
            ),
            done_message=lambda n: (
                ngettext(
                    "Avbrudd av foreldelsen er registrert for %(count)d sak.",
                    "Avbrudd av foreldelsen er registrert for %(count)d saker.",
                    n,
                )
                % {"count": n}
            ),
        )

    @admin.action(description=_("Avslutt valgte saker som foreldet"))
    def close_time_barred(self, request, queryset):
        def close(case, data):
            today = timezone.localdate()
            if not limitation.case_is_time_barred(case, on=today):
                raise ApplicationError(
                    gettext("Sak %(number)s er ikke foreldet (foreldelsesdato %(date)s).")
                    % {
                        "number": case.number,
                        "date": case.limitation_date.strftime("%d.%m.%Y")
                        if case.limitation_date
                        else "–",
                    }
                )
            return case_services.case_close(
                case=case,
                actor=request.user,
                reason=CollectionCase.CloseReason.TIME_BARRED,
                note=data["note"],
            )

        return self._with_form(
            request,
            queryset,
            form_class=CloseTimeBarredForm,
            title=_("Avslutt saker som foreldet"),
            call=close,
            done_message=lambda n: (
                ngettext(
                    "%(count)d sak er avsluttet som foreldet.",
                    "%(count)d saker er avsluttet som foreldet.",
                    n,
                )
                % {"count": n}
            ),
        )

    @admin.action(description=_("Steng Min side-tilgangen for valgte saker"))
    def revoke_portal_access(self, request, queryset):
        """Every code and link of the case stops working (open sessions too); the reason is
        recorded as a case event. Then «Lag ny Min side-kode» if the debtor needs one."""
        return self._with_form(
            request,
            queryset,
            form_class=ReasonForm,
            title=_("Steng Min side-tilgangen"),
            call=lambda case, data: portal_access.access_revoke_case(
                case=case, actor=request.user, reason=data["reason"]
            ),
            done_message=lambda n: (
                ngettext(
                    "Min side-tilgangen er stengt for %(count)d sak.",
                    "Min side-tilgangen er stengt for %(count)d saker.",
                    n,
                )
                % {"count": n}
            ),
        )

    @admin.action(description=_("Lag ny Min side-kode (vises én gang)"))
    def issue_portal_code(self, request, queryset):
        """A new code for one case, shown once on the next page (e.g. to read out on the
        phone); only its HMAC is stored and the case event does not name it."""
        if queryset.count() != 1:
            self.message_user(request, gettext("Velg én sak."), messages.WARNING)
            return None
        case = queryset.get()
        form = NewPortalCodeForm(request.POST if "apply" in request.POST else None)
        if form.is_bound and form.is_valid():
            issued = portal_access.access_issue_by_handler(
                case=case, actor=request.user, reason=form.cleaned_data["reason"]
            )
            context = {
                **self.admin_site.each_context(request),
                "title": _("Ny Min side-kode"),
                "opts": self.model._meta,
                "case": case,
                "code": issued.display,
                "min_side_url": f"{settings.SITE_URL.rstrip('/')}/min-side/",
            }
            response = TemplateResponse(
                request, "admin/collections_cases/collectioncase/portal_code.html", context
            )
            add_never_cache_headers(response)
            return response
        context = {
            **self.admin_site.each_context(request),
            "title": _("Lag ny Min side-kode"),
            "form": form,
            "cases": queryset,
            "action": request.POST.get("action", ""),
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
            "opts": self.model._meta,
        }
        return TemplateResponse(
            request, "admin/collections_cases/collectioncase/action_reason.html", context
        )


@admin.register(Invoice)
class InvoiceAdmin(admin.ModelAdmin):
    # Fits 1 280 px beside the filters: the creditor by name, the due date (not the invoice date).
    list_display = [
        "invoice_no",
        "creditor_name",
        "debtor",
        "due_date",
        "total_amount",
        "balance",
        "case",
    ]
    list_filter = ["creditor", "due_date"]
    search_fields = ["invoice_no__exact", "debtor__name", "cid", "case__number"]
    list_select_related = ["creditor", "debtor", "case"]
    raw_id_fields = ["creditor", "debtor", "case"]
    readonly_fields = ["case", "created_at", "updated_at"]

    @admin.display(description=_("kreditor"), ordering="creditor__name")
    def creditor_name(self, obj):
        return obj.creditor.name


# The creditor list gets the front page's work queues as its first filter. Set here, not in
# creditors.admin: the queues are the case app's, and creditors does not import the case app.
CreditorAdmin.list_filter = [StaffQueueFilter, *CreditorAdmin.list_filter]
