"""``manage.py seed_demo``: a demo Kundeweb login and, with the sandbox on, demo PoGo data.

Idempotent: running it again changes nothing and prints the same logins.
"""

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import BaseCommand, call_command

DEMO_EMAIL = "demo@kravia.example"
DEMO_PASSWORD = "demo-kravia-2026"  # noqa: S105 - the documented demo login (README)


class Command(BaseCommand):
    help = "Create the demo Kundeweb login and (with POWEROFFICE_SANDBOX) the sandbox's demo companies."

    def handle(self, *args, **options):
        User = get_user_model()
        user, created = User.objects.get_or_create(
            email=DEMO_EMAIL, defaults={"first_name": "Demo", "last_name": "Bruker"}
        )
        if created:
            user.set_password(DEMO_PASSWORD)
            user.save(update_fields=["password"])
        admin, admin_created = User.objects.get_or_create(
            email="admin@kravia.example",
            defaults={
                "first_name": "Saks",
                "last_name": "Behandler",
                "is_staff": True,
                "is_superuser": True,
            },
        )
        if admin_created:
            admin.set_password(DEMO_PASSWORD)
            admin.save(update_fields=["password"])

        self.stdout.write("")
        self.stdout.write(self.style.SUCCESS(f"Kundeweb ({settings.SITE_URL}/):"))
        self.stdout.write(f"  kunde:          {DEMO_EMAIL} / {DEMO_PASSWORD}")
        self.stdout.write(f"  saksbehandler:  admin@kravia.example / {DEMO_PASSWORD}  (/admin/)")
        if settings.POWEROFFICE_SANDBOX:
            call_command("pogo_seed", stdout=self.stdout)
