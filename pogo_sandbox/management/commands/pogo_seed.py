"""``manage.py pogo_seed``: the sandbox's demo world (idempotent; a second run changes nothing).

Registers our agency as an Application, a Go login with two companies, their customers,
invoices (paid, not yet due and overdue 1–120 days relative to today), chart of accounts and
VAT codes. Data is generated from a fixed random seed; rows are looked up by natural keys and
never rewritten once they exist.
"""

import datetime as dt
import random
from decimal import Decimal

from django.conf import settings
from django.contrib.auth.hashers import check_password, make_password
from django.core.management import BaseCommand
from django.db import transaction
from stdnum import luhn
from stdnum.no import orgnr

from pogo_sandbox import domain
from pogo_sandbox.models import (
    Application,
    Company,
    CompanyAccess,
    Customer,
    GeneralLedgerAccount,
    GoUser,
    OutgoingInvoice,
    VatCode,
)

GO_EMAIL = "demo@poweroffice.example"
GO_PASSWORD = "demo1234"  # noqa: S105 - the sandbox's documented demo login
CUSTOMERS_PER_COMPANY = 40
INVOICES_PER_COMPANY = 150

COMPANIES = [
    {
        "name": "Fjordkaffe Demo AS",
        "org_number": "999100007",
        "email": "post@fjordkaffe.example",
        "address_line": "Bryggen 12",
        "zip_code": "5003",
        "city": "Bergen",
        "payment_reminder_enabled": True,
        "purring_enabled": False,
        "inkassovarsel_enabled": False,
        "auto_transfer_to_agency": False,
    },
    {
        "name": "Nordlys Rørlegger Demo AS",
        "org_number": "999200001",
        "email": "post@nordlys-ror.example",
        "address_line": "Storgata 40",
        "zip_code": "9008",
        "city": "Tromsø",
        "payment_reminder_enabled": True,
        "purring_enabled": True,
        "inkassovarsel_enabled": False,
        "auto_transfer_to_agency": False,
    },
]

ACCOUNTS = [
    (1500, "Kundefordringer", ""),
    (1900, "Kontanter", ""),
    (1920, "Bankinnskudd", ""),
    (2050, "Annen egenkapital", ""),
    (2400, "Leverandørgjeld", ""),
    (2700, "Utgående merverdiavgift, høy sats", ""),
    (2710, "Inngående merverdiavgift, høy sats", ""),
    (2740, "Oppgjørskonto merverdiavgift", ""),
    (3000, "Salgsinntekt, avgiftspliktig", "3"),
    (3100, "Salgsinntekt, avgiftsfri", "5"),
    (3900, "Annen driftsrelatert inntekt", "0"),
    (4000, "Innkjøp av råvarer og halvfabrikater", "1"),
    (6300, "Leie lokale", "1"),
    (7770, "Bank- og kortgebyrer", "0"),
    (7830, "Tap på fordringer", "0"),
    (8040, "Renteinntekt, skattefri", "0"),
    (8050, "Annen renteinntekt", "0"),
    (8150, "Annen rentekostnad", "0"),
]

VAT_CODES = [
    ("0", "Ingen mva-behandling", "0"),
    ("1", "Fradrag for inngående mva, høy sats", "0.25"),
    ("3", "Utgående mva, høy sats", "0.25"),
    ("5", "Innenlands omsetning fritatt for mva", "0"),
    ("6", "Omsetning utenfor mva-loven", "0"),
    ("11", "Fradrag for inngående mva, middels sats", "0.15"),
    ("31", "Utgående mva, middels sats", "0.15"),
    ("33", "Utgående mva, lav sats", "0.12"),
]

FIRST_NAMES = [
    "Ola",
    "Kari",
    "Per",
    "Ingrid",
    "Lars",
    "Silje",
    "Knut",
    "Marte",
    "Jonas",
    "Hanne",
    "Eirik",
    "Nora",
    "Sindre",
    "Ida",
    "Magnus",
    "Sofie",
    "Henrik",
    "Thea",
    "Anders",
    "Maja",
]
LAST_NAMES = [
    "Nordmann",
    "Hansen",
    "Johansen",
    "Olsen",
    "Larsen",
    "Andersen",
    "Pedersen",
    "Nilsen",
    "Kristiansen",
    "Jensen",
    "Karlsen",
    "Berg",
    "Haugen",
    "Hagen",
    "Bakken",
    "Solberg",
]
BUSINESS_WORDS = [
    "Fjell",
    "Kyst",
    "Vidde",
    "Elv",
    "Bjørk",
    "Furu",
    "Havbris",
    "Midnattsol",
    "Fossen",
    "Lyng",
    "Sjøsprøyt",
    "Tindevegg",
    "Nordavind",
    "Granskog",
    "Skjærgård",
]
BUSINESS_KINDS = [
    "Bygg",
    "Kafé",
    "Regnskap",
    "Eiendom",
    "Transport",
    "Frisør",
    "Maskin",
    "Blomster",
    "Data",
    "Bakeri",
]
PLACES = [
    ("Karl Johans gate", "0154", "Oslo"),
    ("Kongens gate", "7011", "Trondheim"),
    ("Strandkaien", "5013", "Bergen"),
    ("Kirkegata", "4006", "Stavanger"),
    ("Storgata", "9008", "Tromsø"),
    ("Dronningens gate", "8006", "Bodø"),
    ("Markens gate", "4611", "Kristiansand"),
    ("Torggata", "2317", "Hamar"),
    ("Nedre Storgate", "3015", "Drammen"),
    ("Kirkegata", "6004", "Ålesund"),
]


def fictional_orgnr(rng: random.Random) -> str:
    """A valid (MOD11) number in the 99xxxxxxx range, tried until the check digit works."""
    while True:
        candidate = f"99{rng.randrange(0, 10_000_000):07d}"
        if orgnr.is_valid(candidate):
            return candidate


def kid(customer_no: int, invoice_no: int) -> str:
    body = f"{customer_no:05d}{invoice_no:06d}"
    return body + luhn.calc_check_digit(body)


class Command(BaseCommand):
    help = "Create the PowerOffice Go sandbox's demo data (idempotent)."

    def handle(self, *args, **options):
        today = domain.oslo_today()
        with transaction.atomic():
            self._application()
            user = self._user()
            companies = [
                self._company(index, spec, user, today) for index, spec in enumerate(COMPANIES)
            ]
        if options["verbosity"] > 0:
            self._print(companies)

    def _application(self):
        """Keys and redirect whitelist follow the settings, so a changed SITE_URL is picked up."""
        wanted = {
            "subscription_key": settings.POWEROFFICE_SUBSCRIPTION_KEY,
            "redirect_uri_prefix": settings.SITE_URL,
        }
        application, created = Application.objects.get_or_create(
            application_key=settings.POWEROFFICE_APPLICATION_KEY,
            defaults={
                "name": "Inkassobyrå (Kundeweb)",
                "is_debt_collection_agency": True,
                **wanted,
            },
        )
        changed = [field for field, value in wanted.items() if getattr(application, field) != value]
        if changed:
            for field in changed:
                setattr(application, field, wanted[field])
            application.save(update_fields=changed)

    def _user(self) -> GoUser:
        user, created = GoUser.objects.get_or_create(
            email=GO_EMAIL,
            defaults={"name": "Demo Regnskapsfører", "password": make_password(GO_PASSWORD)},
        )
        if not created and not check_password(GO_PASSWORD, user.password):
            user.password = make_password(GO_PASSWORD)
            user.save(update_fields=["password"])
        return user

    def _company(self, index: int, spec: dict, user: GoUser, today: dt.date) -> Company:
        fields = {k: v for k, v in spec.items() if k != "org_number"}
        company, created = Company.objects.get_or_create(
            org_number=spec["org_number"], defaults={**fields, "legal_name": spec["name"]}
        )
        CompanyAccess.objects.get_or_create(user=user, company=company, defaults={"is_admin": True})
        for number, name, vat in ACCOUNTS:
            GeneralLedgerAccount.objects.get_or_create(
                company=company, account_no=number, defaults={"name": name, "vat_code": vat}
            )
        for code, name, rate in VAT_CODES:
            VatCode.objects.get_or_create(
                company=company, code=code, defaults={"name": name, "rate": Decimal(rate)}
            )
        rng = random.Random(2026 + index)  # noqa: S311 - repeatable demo data, not secrets
        customers = [self._customer(company, rng, n) for n in range(CUSTOMERS_PER_COMPANY)]
        for n in range(INVOICES_PER_COMPANY):
            self._invoice(company, rng, customers, n, today)
        if created:
            domain.refresh_drafts(company, today=today)
        return company

    def _customer(self, company: Company, rng: random.Random, n: int) -> Customer:
        number = 10001 + n
        is_person = rng.random() < 0.5
        street, zip_code, city = rng.choice(PLACES)
        fields = {
            "is_person": is_person,
            "address_line1": f"{street} {rng.randint(1, 120)}",
            "zip_code": zip_code,
            "city": city,
            "phone_number": f"+47 {rng.randint(400, 999)} {rng.randint(10, 99)} {rng.randint(100, 999)}",
            "transfer_to_debt_collection_agency": rng.random() >= 0.12,
        }
        if is_person:
            first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
            name = f"{first} {last}"
            fields.update(first_name=first, last_name=last)
            email_local = f"{first}.{last}{n}".lower()
        else:
            name = f"{rng.choice(BUSINESS_WORDS)} {rng.choice(BUSINESS_KINDS)} AS"
            fields.update(legal_name=name, organization_number=fictional_orgnr(rng))
            email_local = f"post{n}"
        has_email = rng.random() >= 0.15
        if has_email:
            email = (
                f"{email_local}@example.no".replace("ø", "o").replace("å", "a").replace("æ", "ae")
            )
            fields["email_address"] = email
        existing = Customer.objects.filter(company=company, number=number).first()
        if existing is not None:
            return existing
        return domain.create_customer(company, number=number, name=name, **fields)

    def _invoice(self, company, rng, customers, n, today):
        invoice_no = 100001 + n
        customer = rng.choice(customers)
        kind = rng.random()
        if kind < 0.35:  # paid
            due = today - dt.timedelta(days=rng.randint(5, 200))
        elif kind < 0.6:  # not yet due
            due = today + dt.timedelta(days=rng.randint(0, 25))
        else:  # overdue
            due = today - dt.timedelta(days=rng.randint(1, 120))
        net = Decimal(rng.randrange(40_000, 2_500_000)) / 100
        total = (net * Decimal("1.25")).quantize(Decimal("0.01"))
        pay_day = min(due + dt.timedelta(days=rng.randint(-10, 20)), today)
        partial = rng.random() < 0.1
        if OutgoingInvoice.objects.filter(company=company, invoice_no=invoice_no).exists():
            return
        invoice = domain.create_invoice(
            customer,
            invoice_no=invoice_no,
            voucher_date=due - dt.timedelta(days=14),
            due_date=due,
            total_amount=total,
            net_amount=net,
            cid=kid(customer.number, invoice_no),
        )
        if kind < 0.35:
            domain.register_payment(invoice, amount=total, on=pay_day)
        elif kind >= 0.6 and partial:
            domain.register_payment(
                invoice, amount=(total / 2).quantize(Decimal("0.01")), on=pay_day
            )

    def _print(self, companies):
        self.stdout.write("")
        self.stdout.write(self.style.SUCCESS("PowerOffice Go sandbox (/pogo/):"))
        self.stdout.write(f"  Go-innlogging:  {GO_EMAIL} / {GO_PASSWORD}")
        for company in companies:
            self.stdout.write(f"  {company.name}: org.nr. {company.org_number}")
