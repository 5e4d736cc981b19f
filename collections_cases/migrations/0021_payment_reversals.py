"""Payment reversals (docs/payments.md): the ``PaymentReversal`` queue, the link from an
allocation to the ``payment_reversal`` entry that undid it, the ``refund_cancelled`` ledger
kind, the per-file counts, and ``SettlementClaim`` (a reversed payment already paid out is
deducted from the creditor's next payout).

The stored ledger totals (migration 0018) count ``stored_paid`` over the paid kinds; a
reversal takes the money back, so ``payment_reversal`` joins them. On PostgreSQL that is the
trigger function, replaced here (and put back on the way down); SQLite's row triggers come
from ``collections_cases.ledger_totals`` after every migrate. No ``payment_reversal`` entry
exists before this migration, so the stored totals need no recompute.
"""

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models

CASE = "collections_cases_collectioncase"
LEDGER = "collections_cases_ledgerentry"


def _function(paid_kinds: str) -> str:
    totals = f"""
SELECT case_id,
       SUM(amount) AS balance,
       COALESCE(SUM(amount) FILTER (WHERE kind = 'principal'), 0) AS principal,
       COALESCE(SUM(amount) FILTER (WHERE kind IN {paid_kinds}), 0) AS paid
  FROM ROWS GROUP BY case_id
"""  # noqa: S608
    apply = f"""
UPDATE {CASE} AS c
   SET stored_balance = c.stored_balance + d.balance,
       stored_principal = c.stored_principal + d.principal,
       stored_paid = c.stored_paid + d.paid
  FROM (TOTALS) AS d
 WHERE c.id = d.case_id;
"""  # noqa: S608

    def on(rows: str) -> str:
        return apply.replace("TOTALS", totals.replace("ROWS", rows))

    changed = (
        "(SELECT case_id, amount, kind FROM new_rows UNION ALL "
        "SELECT case_id, -amount, kind FROM old_rows) AS u"
    )
    return f"""
CREATE OR REPLACE FUNCTION collections_cases_ledger_totals() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        {on("new_rows")}
    ELSIF TG_OP = 'DELETE' THEN
        {on("(SELECT case_id, -amount AS amount, kind FROM old_rows) AS o")}
    ELSE
        {on(changed)}
    END IF;
    RETURN NULL;
END
$$;
"""  # noqa: S608


def _replace_function(paid_kinds: str):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(_function(paid_kinds), params=None)

    return run


class Migration(migrations.Migration):
    dependencies = [
        ("collections_cases", "0020_interest_limitation_reversal_kinds"),
        ("creditors", "0006_list_search_indexes"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="PaymentReversal",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "source",
                    models.CharField(
                        choices=[
                            ("manual", "Manuelt registrert"),
                            ("camt054", "camt.054"),
                            ("ocr", "OCR giro"),
                        ],
                        max_length=20,
                        verbose_name="kilde",
                    ),
                ),
                (
                    "external_reference",
                    models.CharField(max_length=200, unique=True, verbose_name="ekstern referanse"),
                ),
                (
                    "amount",
                    models.DecimalField(decimal_places=2, max_digits=14, verbose_name="beløp"),
                ),
                ("reversed_on", models.DateField(verbose_name="tilbakeført")),
                ("kid", models.CharField(blank=True, max_length=25, verbose_name="KID")),
                (
                    "original_reference",
                    models.CharField(
                        blank=True,
                        help_text="Bankens referanse til den opprinnelige innbetalingen, når filen har den.",
                        max_length=200,
                        verbose_name="referanse til innbetalingen",
                    ),
                ),
                (
                    "payer_name",
                    models.CharField(blank=True, max_length=200, verbose_name="innbetaler"),
                ),
                (
                    "payer_reference",
                    models.CharField(blank=True, max_length=500, verbose_name="referanse/melding"),
                ),
                (
                    "status",
                    models.CharField(
                        choices=[
                            ("unmatched", "Venter på saksbehandler"),
                            ("reversed", "Innbetalingen er tilbakeført"),
                            ("dismissed", "Avsluttet uten tilbakeføring"),
                        ],
                        default="unmatched",
                        max_length=20,
                        verbose_name="status",
                    ),
                ),
                ("note", models.CharField(blank=True, max_length=300, verbose_name="merknad")),
                (
                    "created_at",
                    models.DateTimeField(
                        default=django.utils.timezone.now, verbose_name="registrert"
                    ),
                ),
            ],
            options={
                "verbose_name": "tilbakeført innbetaling",
                "verbose_name_plural": "tilbakeførte innbetalinger",
                "ordering": ["-reversed_on", "-id"],
            },
        ),
        migrations.CreateModel(
            name="SettlementClaim",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "principal",
                    models.DecimalField(decimal_places=2, max_digits=14, verbose_name="hovedstol"),
                ),
                (
                    "interest_to_creditor",
                    models.DecimalField(
                        decimal_places=2, max_digits=14, verbose_name="renter til kreditor"
                    ),
                ),
                (
                    "commission",
                    models.DecimalField(
                        decimal_places=2, max_digits=14, verbose_name="suksessprovisjon"
                    ),
                ),
                (
                    "vat",
                    models.DecimalField(
                        decimal_places=2, max_digits=14, verbose_name="mva. på byråets honorar"
                    ),
                ),
                (
                    "amount",
                    models.DecimalField(decimal_places=2, max_digits=14, verbose_name="til trekk"),
                ),
                (
                    "created_at",
                    models.DateTimeField(
                        default=django.utils.timezone.now, verbose_name="registrert"
                    ),
                ),
            ],
            options={
                "verbose_name": "krav mot neste utbetaling",
                "verbose_name_plural": "krav mot neste utbetaling",
                "ordering": ["-created_at", "-id"],
            },
        ),
        migrations.RemoveConstraint(
            model_name="ledgerentry",
            name="ledger_entry_sign_by_kind",
        ),
        migrations.AddField(
            model_name="paymentallocation",
            name="reversal_entry",
            field=models.OneToOneField(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="reversed_allocation",
                to="collections_cases.ledgerentry",
                verbose_name="tilbakeføring",
            ),
        ),
        migrations.AddField(
            model_name="paymentimport",
            name="account",
            field=models.CharField(
                blank=True,
                help_text="Kontoen filen gjelder (kontonummer, fra IBAN eller Othr/Id).",
                max_length=34,
                verbose_name="konto",
            ),
        ),
        migrations.AddField(
            model_name="paymentimport",
            name="ignored_count",
            field=models.PositiveIntegerField(
                default=0, verbose_name="ikke innbetalinger (ignorert)"
            ),
        ),
        migrations.AddField(
            model_name="paymentimport",
            name="reversal_count",
            field=models.PositiveIntegerField(default=0, verbose_name="tilbakeføringer"),
        ),
        migrations.AddField(
            model_name="paymentimport",
            name="reversal_unmatched_count",
            field=models.PositiveIntegerField(
                default=0, verbose_name="tilbakeføringer til saksbehandler"
            ),
        ),
        migrations.AddField(
            model_name="paymentimport",
            name="skipped",
            field=models.JSONField(blank=True, default=list, verbose_name="poster hoppet over"),
        ),
        migrations.AddField(
            model_name="settlement",
            name="claims",
            field=models.DecimalField(
                decimal_places=2,
                default=0,
                max_digits=14,
                verbose_name="tilbakeførte innbetalinger trukket",
            ),
        ),
        migrations.AlterField(
            model_name="ledgerentry",
            name="kind",
            field=models.CharField(
                choices=[
                    ("principal", "Hovedstol"),
                    ("interest", "Forsinkelsesrente"),
                    ("fee", "Gebyr"),
                    ("salaer", "Salær"),
                    ("payment", "Innbetaling"),
                    ("direct_payment", "Direkte betalt til kreditor"),
                    ("credit_note", "Kreditnota"),
                    ("write_off", "Avskrivning"),
                    ("reduction", "Reduksjon"),
                    ("refund_due", "Til tilbakebetaling"),
                    ("payment_reversal", "Tilbakeført innbetaling"),
                    ("refund_cancelled", "Tilbakebetaling bortfalt"),
                    ("interest_correction", "Rentekorreksjon"),
                ],
                max_length=20,
                verbose_name="type",
            ),
        ),
        migrations.AddConstraint(
            model_name="ledgerentry",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    models.Q(
                        ("amount__gt", 0),
                        (
                            "kind__in",
                            [
                                "principal",
                                "interest",
                                "fee",
                                "salaer",
                                "refund_due",
                                "payment_reversal",
                            ],
                        ),
                    ),
                    models.Q(
                        ("amount__lt", 0),
                        (
                            "kind__in",
                            [
                                "payment",
                                "direct_payment",
                                "credit_note",
                                "write_off",
                                "reduction",
                                "interest_correction",
                                "refund_cancelled",
                            ],
                        ),
                    ),
                    _connector="OR",
                ),
                name="ledger_entry_sign_by_kind",
            ),
        ),
        migrations.AddField(
            model_name="paymentreversal",
            name="handled_by",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="+",
                to=settings.AUTH_USER_MODEL,
                verbose_name="behandlet av",
            ),
        ),
        migrations.AddField(
            model_name="paymentreversal",
            name="import_batch",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="reversals",
                to="collections_cases.paymentimport",
                verbose_name="import",
            ),
        ),
        migrations.AddField(
            model_name="paymentreversal",
            name="payment",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="reversals",
                to="collections_cases.payment",
                verbose_name="innbetaling",
            ),
        ),
        migrations.AddField(
            model_name="settlementclaim",
            name="case",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.PROTECT,
                related_name="settlement_claims",
                to="collections_cases.collectioncase",
                verbose_name="sak",
            ),
        ),
        migrations.AddField(
            model_name="settlementclaim",
            name="creditor",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.PROTECT,
                related_name="settlement_claims",
                to="creditors.creditor",
                verbose_name="kreditor",
            ),
        ),
        migrations.AddField(
            model_name="settlementclaim",
            name="deducted_in",
            field=models.ForeignKey(
                blank=True,
                help_text="Tomt til kravet er trukket fra en utbetaling.",
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="deducted_claims",
                to="collections_cases.settlement",
                verbose_name="trukket i oppgjør",
            ),
        ),
        migrations.AddField(
            model_name="settlementclaim",
            name="reversal",
            field=models.OneToOneField(
                on_delete=django.db.models.deletion.PROTECT,
                related_name="settlement_claim",
                to="collections_cases.paymentreversal",
                verbose_name="tilbakeføring",
            ),
        ),
        migrations.AddField(
            model_name="settlementclaim",
            name="settled_in",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="collections_cases.settlementline",
                verbose_name="utbetalt i",
            ),
        ),
        migrations.AddIndex(
            model_name="paymentreversal",
            index=models.Index(fields=["status", "reversed_on"], name="reversal_status_idx"),
        ),
        migrations.AddConstraint(
            model_name="paymentreversal",
            constraint=models.CheckConstraint(
                condition=models.Q(("amount__gt", 0)), name="payment_reversal_amount_positive"
            ),
        ),
        migrations.AddConstraint(
            model_name="paymentreversal",
            constraint=models.UniqueConstraint(
                condition=models.Q(("status", "reversed")),
                fields=("payment",),
                name="uniq_payment_reversal_per_payment",
            ),
        ),
        migrations.AddConstraint(
            model_name="settlementclaim",
            constraint=models.CheckConstraint(
                condition=models.Q(("amount", 0), _negated=True), name="settlement_claim_not_zero"
            ),
        ),
        migrations.AlterField(
            model_name="caseevent",
            name="kind",
            field=models.CharField(
                choices=[
                    ("created", "Opprettet"),
                    ("approved", "Godkjent"),
                    ("paused", "Satt på vent"),
                    ("resumed", "Gjenopptatt"),
                    ("disputed", "Omtvistet"),
                    ("dispute_resolved", "Innsigelse avklart"),
                    ("legal_approval_requested", "Godkjenning av rettslige tiltak bedt om"),
                    ("legal_approved", "Rettslige tiltak godkjent"),
                    ("monitoring", "Til overvåkning"),
                    ("closed", "Avsluttet"),
                    ("note", "Notat"),
                    ("direct_payment", "Direkte betaling registrert"),
                    ("invoices_added", "Fakturaer lagt til"),
                    ("cost_added", "Kostnad lagt til"),
                    ("letter", "Brev sendt"),
                    ("demand_approval_requested", "Betalingsoppfordring venter godkjenning"),
                    ("dunning_step", "Inkassosteg"),
                    ("letter_delivery", "Utsending av brev"),
                    ("payment", "Innbetaling fordelt"),
                    ("settlement", "Oppgjort til kreditor"),
                    ("limitation", "Foreldelse"),
                    ("step_held", "Steg holdt tilbake"),
                    ("payment_reversed", "Innbetaling tilbakeført"),
                    ("reopened", "Gjenåpnet"),
                ],
                max_length=30,
                verbose_name="type",
            ),
        ),
        migrations.RunPython(
            _replace_function("('payment', 'direct_payment', 'payment_reversal')"),
            _replace_function("('payment', 'direct_payment')"),
            elidable=False,
        ),
    ]
