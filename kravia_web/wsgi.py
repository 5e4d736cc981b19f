import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kravia_web.settings.base")
# Web requests run no parallel query workers: on a small machine serving many requests at
# once, a page's count spread over 3 processes costs 3 × the CPU of one for little gain
# (the Saker list's filter by debtor kind at 100 000 cases: 500 → 116 ms CPU). Celery
# workers (reports, runs) keep PostgreSQL's default.
os.environ.setdefault("DATABASE_PG_OPTIONS", "-c max_parallel_workers_per_gather=0")

application = get_wsgi_application()
