"""Admin for payment plans: read-only rows (the services write them) and actions to accept or
decline requested plans, each through the payment-plan service."""

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.template.response import TemplateResponse
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from collections_cases.cases.staff_queue import StaffQueueFilter
from collections_cases.models import PaymentPlan, PaymentPlanInstalment
from collections_cases.plans import services as plan_services
from kravia_web.errors import ApplicationError


class DeclineForm(forms.Form):
    note = forms.CharField(
        label=_("Begrunnelse"),
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=2000,
        help_text=_("Skyldneren ser begrunnelsen på Min side."),
    )


class InstalmentInline(admin.TabularInline):
    model = PaymentPlanInstalment
    fields = ["number", "due_date", "amount"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(PaymentPlan)
class PaymentPlanAdmin(admin.ModelAdmin):
    list_display = ["case", "status", "total", "requested_at", "decided_by", "decided_at"]
    list_filter = [StaffQueueFilter, "status", "requested_at"]
    search_fields = ["case__number", "case__debtor__name"]
    list_select_related = ["case", "decided_by"]
    readonly_fields = [
        "case",
        "status",
        "total",
        "requested_at",
        "requested_by",
        "decided_by",
        "decided_at",
        "note",
        "ended_at",
    ]
    inlines = [InstalmentInline]
    actions = ["accept_plans", "decline_plans"]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def _apply(self, request, queryset, call, done_text):
        done = 0
        for plan in queryset.select_related("case"):
            try:
                call(plan)
            except ApplicationError as exc:
                self.message_user(request, f"{plan.case.number}: {exc.message}", messages.ERROR)
            else:
                done += 1
        if done:
            self.message_user(request, done_text(done), messages.SUCCESS)

    @admin.action(description=_("Godta valgte betalingsplaner (saken settes på vent)"))
    def accept_plans(self, request, queryset):
        self._apply(
            request,
            queryset,
            lambda plan: plan_services.payment_plan_accept(plan=plan, actor=request.user),
            lambda n: (
                ngettext(
                    "%(count)d betalingsplan er godtatt.",
                    "%(count)d betalingsplaner er godtatt.",
                    n,
                )
                % {"count": n}
            ),
        )

    @admin.action(description=_("Avslå valgte betalingsplaner …"))
    def decline_plans(self, request, queryset):
        if "apply" in request.POST:
            form = DeclineForm(request.POST)
            if form.is_valid():
                note = form.cleaned_data["note"]
                self._apply(
                    request,
                    queryset,
                    lambda plan: plan_services.payment_plan_decline(
                        plan=plan, actor=request.user, note=note
                    ),
                    lambda n: (
                        ngettext(
                            "%(count)d betalingsplan er avslått.",
                            "%(count)d betalingsplaner er avslått.",
                            n,
                        )
                        % {"count": n}
                    ),
                )
                return None
        else:
            form = DeclineForm()
        context = {
            **self.admin_site.each_context(request),
            "title": _("Avslå betalingsplaner"),
            "form": form,
            "plans": queryset.select_related("case"),
            "action": request.POST.get("action", ""),
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
            "opts": self.model._meta,
        }
        return TemplateResponse(request, "portal/admin_decline_plans.html", context)
