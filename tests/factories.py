import factory
from django.utils import timezone
from factory.django import DjangoModelFactory
from stdnum.no import orgnr

from creditors.models import Creditor, Membership, User


def valid_org_number(n: int) -> str:
    """The n-th valid (MOD11) organisation number from 310000000 up: unique per n."""
    candidate = 310000000 + n * 100
    while not orgnr.is_valid(str(candidate)):
        candidate += 1
    return str(candidate)


class UserFactory(DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"user{n}@example.no")
    first_name = "Kari"
    last_name = "Nordmann"
    password = factory.PostGenerationMethodCall("set_password", "Sterkt-passord-123")

    @factory.post_generation
    def _save(obj, create, extracted, **kwargs):
        if create:
            obj.save()


class CreditorFactory(DjangoModelFactory):
    class Meta:
        model = Creditor

    org_number = factory.Sequence(valid_org_number)
    name = factory.Sequence(lambda n: f"Eksempel Bedrift {n} AS")
    email = factory.Sequence(lambda n: f"post{n}@bedrift.example.no")
    bank_account = "86011117947"
    # Verified, as every creditor whose cases reach debtors must be: a test of an unverified
    # creditor says so (``verified_at=None``).
    verified_at = factory.LazyFunction(timezone.now)
    verification_method = Creditor.VerificationMethod.CASE_HANDLER
    # One mail per event, as the notification tests describe; a new creditor's default is the
    # daily digest (a digest test says ``notification_frequency="daily"``).
    notification_frequency = Creditor.NotificationFrequency.IMMEDIATE


class MembershipFactory(DjangoModelFactory):
    class Meta:
        model = Membership

    user = factory.SubFactory(UserFactory)
    creditor = factory.SubFactory(CreditorFactory)
    role = Membership.Role.OWNER
