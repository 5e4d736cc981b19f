"""Base classes of every API view: authentication, throttling, the error shape and
idempotent POSTs in one place."""

from __future__ import annotations

from rest_framework.generics import GenericAPIView

from api_access.api.context import api_actor, api_creditor
from api_access.api.idempotency import (
    Replay,
    idempotency_claim,
    idempotency_finish,
    replay_response,
)


class ApiView(GenericAPIView):
    """Acts for one creditor (``self.creditor``): the API key's, or the session user's active
    one. Lists use cursor pagination via ``self.paginate_queryset``."""

    _idempotency_record = None

    @classmethod
    def as_view(cls, **initkwargs):
        view = super().as_view(**initkwargs)
        # Django's LoginRequiredMiddleware would redirect to the login page; the API answers
        # 401 in its own error shape instead.
        view.login_required = False
        return view

    @property
    def creditor(self):
        if not hasattr(self, "_creditor"):
            self._creditor = api_creditor(self.request)
        return self._creditor

    @property
    def actor(self):
        return api_actor(self.request)

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        self._idempotency_record = idempotency_claim(request)

    def handle_exception(self, exc):
        if isinstance(exc, Replay):
            return replay_response(exc.record)
        return super().handle_exception(exc)

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        record, self._idempotency_record = self._idempotency_record, None
        if record is not None:
            idempotency_finish(record, response)
        return response
