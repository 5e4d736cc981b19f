# One image for web, worker and beat (docker-compose.yml picks the command).
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    DJANGO_SETTINGS_MODULE=kravia_web.settings.production

# WeasyPrint (PDF letters) needs Pango; gettext compiles translations.
RUN apt-get update \
    && apt-get install -y --no-install-recommends libpango-1.0-0 libpangoft2-1.0-0 fonts-dejavu-core gettext \
    && rm -rf /var/lib/apt/lists/*

WORKDIR /app
COPY pyproject.toml README.md ./
COPY kravia_web kravia_web
COPY creditors creditors
COPY integrations integrations
COPY collections_cases collections_cases
COPY pogo_sandbox pogo_sandbox
RUN pip install .
COPY . .

# collectstatic needs settings that import; these build-time values are never used at run time.
RUN SECRET_KEY=build-only FIELD_ENCRYPTION_KEY=n99IM2blTf28X12iI6lcwcgA9_ph-CkWG8lC2rsLMoM= \
    DATABASE_URL=sqlite:////tmp/build.sqlite3 ALLOWED_HOSTS=localhost \
    AGENCY_NAME=build AGENCY_ORG_NUMBER=build AGENCY_ACCOUNT_NUMBER=build \
    python manage.py collectstatic --noinput

RUN useradd --create-home --uid 10001 kravia && mkdir -p /app/var && chown -R kravia /app/var
USER kravia

EXPOSE 8000
CMD ["gunicorn", "kravia_web.wsgi:application", "--bind", "0.0.0.0:8000", "--workers", "3", "--access-logfile", "-", "--logger-class", "kravia_web.log_redaction.GunicornLogger"]
