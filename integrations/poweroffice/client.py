"""``PowerOfficeClient``: the one way our code talks to PowerOffice Go (v2 and v1 DebtCollection).

Layers, bottom up: ``Transport`` (session, timeout, rate limit, retries) → ``_send_authorized``
(bearer token, one re-authentication on 401) → ``_check`` (status → typed error) → the public
methods, which build query strings and turn bodies into ``types`` dataclasses.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

import jsonpatch
import requests
from jsonpointer import JsonPointer
from urllib3 import encode_multipart_formdata

from . import types as t
from .auth import (
    SUBSCRIPTION_HEADER,
    TokenGrant,
    TokenKey,
    TokenStore,
    request_token,
    shared_token_cache,
)
from .config import PowerOfficeConfig
from .errors import (
    Conflict,
    Forbidden,
    NotFound,
    PowerOfficeError,
    Unauthorized,
    ValidationError,
    redact,
)
from .jsonio import dumps, loads
from .ratelimit import RateLimiter, shared_rate_limiter
from .transport import Transport, new_session

V1 = "v1"
V2 = "v2"
DEFAULT_PAGE_SIZE = 5000  # PoGo's default; the maximum is 20 000
V1_PAGE_SIZE = 1000
JSON = "application/json"
JSON_PATCH = "application/json-patch+json"

_STATUS_ERRORS: dict[int, type[PowerOfficeError]] = {
    401: Unauthorized,
    403: Forbidden,
    404: NotFound,
    409: Conflict,
}


def _csv(values: Iterable[Any] | None) -> str | None:
    if values is None:
        return None
    return ",".join(str(value) for value in values)


def _timestamp(value: datetime | None) -> str | None:
    return None if value is None else t.utc(value).isoformat()


def _bool(value: bool | None) -> str | None:
    return None if value is None else ("true" if value else "false")


def _problem_summary(problem: Mapping[str, Any] | None) -> str:
    """``Title: Detail`` of a ProblemDetails, or the gateway's ``message`` (APIM errors), or a
    v1 ``validation.summary`` (v1 sends those with 401 too)."""
    if not problem:
        return ""
    parts = [
        problem.get("Title") or problem.get("title"),
        problem.get("Detail") or problem.get("detail"),
    ]
    text = ": ".join(str(part) for part in parts if part)
    if not text and problem.get("message"):
        text = str(problem["message"])
    validation = problem.get("validation")
    if not text and isinstance(validation, Mapping) and validation.get("summary"):
        text = str(validation["summary"])
    return text


def _number(value: Any, name: str) -> Decimal | None:
    """An amount for a v1 body: PowerOffice documents ``number``, so it goes out as a JSON
    number (``jsonio`` writes a ``Decimal`` bare, øre intact), never as a string."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, Decimal | int | float | str):
        raise ValueError(f"{name} must be a number")
    try:
        number = Decimal(str(value).strip()) if not isinstance(value, Decimal) else value
    except InvalidOperation:
        raise ValueError(f"{name} must be a number") from None
    if not number.is_finite():
        raise ValueError(f"{name} must be a finite number")
    return number


def _without_none(params: Mapping[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in params.items() if value is not None}


#: ``on_unreadable(record, reason)`` of the listing methods: the record's number (or id), short.
Unreadable = Callable[[str, str], None]
RECORD_LABEL_MAX = 40


def _read(
    parse: Callable[[Any], Any], item: Any, on_unreadable: Unreadable | None, number_key: str
):
    """``parse(item)``; with ``on_unreadable``, an unreadable record is reported and None."""
    if on_unreadable is None:
        return parse(item)
    try:
        return parse(item)
    except ValidationError as exc:
        label = ""
        if isinstance(item, Mapping):
            label = item.get(number_key) or item.get("Id") or ""
        on_unreadable(str(label)[:RECORD_LABEL_MAX] or "?", str(exc)[:200])
        return None


class PowerOfficeClient:
    """A client for one PoGo company (``client_key``), or for onboarding only (no client key).

    ``session``, ``sleep``, ``token_cache`` and ``rate_limiter`` are injectable so tests can run
    against in-process fakes without waiting; by default tokens and the rate limiter are shared
    process-wide (and across processes when Redis is set). A client owns one
    ``requests.Session``, which is not thread-safe: use one client per thread (they are cheap,
    since tokens and the limiter are shared).
    """

    def __init__(
        self,
        config: PowerOfficeConfig,
        client_key: str | None = None,
        session: requests.Session | None = None,
        sleep: Callable[[float], None] = time.sleep,
        *,
        token_cache: TokenStore | None = None,
        rate_limiter: RateLimiter | None = None,
        max_retries: int = 4,
        max_rate_limit_retries: int = 5,
    ) -> None:
        self.config = config
        self.client_key = client_key
        self.tokens = (
            token_cache
            if token_cache is not None
            else shared_token_cache(config.redis_url, config.token_cipher)
        )
        limiter = rate_limiter or shared_rate_limiter(
            config.subscription_key, config.rate_limit_per_second, config.redis_url
        )
        self.transport = Transport(
            session=session if session is not None else new_session(),
            timeout=config.timeout,
            rate_limiter=limiter,
            sleep=sleep,
            max_retries=max_retries,
            max_rate_limit_retries=max_rate_limit_retries,
        )

    def __repr__(self) -> str:
        return f"PowerOfficeClient({self.config.v2_base_url!r}, client_key={'set' if self.client_key else 'none'})"

    @property
    def request_count(self) -> int:
        """HTTP requests this client sent (token requests and retries included)."""
        return self.transport.request_count

    def close(self) -> None:
        self.transport.close()

    def __enter__(self) -> PowerOfficeClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # --- plumbing --------------------------------------------------------------------------

    @property
    def _secrets(self) -> tuple[str | None, ...]:
        return (self.client_key, self.config.application_key, self.config.subscription_key)

    def _token(self, api: str, *, renew_rejected: str | None = None) -> str:
        """A cached or fresh bearer token; ``renew_rejected`` forgets a token PoGo refused."""
        if not self.client_key:
            raise Unauthorized("this PowerOffice client has no client key (company not connected)")
        client_key = self.client_key
        token_url = self.config.v2_token_url if api == V2 else self.config.v1_token_url
        key = TokenKey.build(api, token_url, self.config.application_key, client_key)
        if renew_rejected is not None:
            self.tokens.invalidate(key, renew_rejected)

        def fetch(refresh_token: str | None = None) -> TokenGrant:
            return request_token(
                self.transport,
                token_url=token_url,
                application_key=self.config.application_key,
                client_key=client_key,
                subscription_key=self.config.subscription_key if api == V2 else None,
                refresh_token=refresh_token,
            )

        # v1 grants carry a refresh token, which the cache trades shortly before expiry.
        return self.tokens.get(key, fetch, fetch)

    def _url(self, api: str, path: str) -> str:
        base = self.config.v2_base_url if api == V2 else self.config.v1_base_url
        return base + path

    def _send_authorized(
        self,
        api: str,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        body: Any = None,
        content_type: str = JSON,
        idempotent: bool | None = None,
        accept: str = JSON,
        raw_body: bytes | None = None,
    ) -> requests.Response:
        """Send with a bearer token; on 401 fetch a new token once and resend, then give up.

        ``body`` is sent as JSON; ``raw_body`` as is (with ``content_type``, e.g. multipart)."""
        headers = {"Accept": accept}
        if api == V2:
            headers[SUBSCRIPTION_HEADER] = self.config.subscription_key
        data = None
        if body is not None:
            data = dumps(body)
            headers["Content-Type"] = content_type
        elif raw_body is not None:
            data = raw_body
            headers["Content-Type"] = content_type

        def send(token: str) -> requests.Response:
            return self.transport.send(
                method,
                self._url(api, path),
                headers={**headers, "Authorization": f"Bearer {token}"},
                params=_without_none(params or {}),
                data=data,
                idempotent=idempotent,
            )

        token = self._token(api)
        response = send(token)
        if response.status_code == 401:
            response = send(self._token(api, renew_rejected=token))
        return response

    def _check(self, response: requests.Response) -> requests.Response:
        """Map a non-2xx response to a typed error (v2 bodies are ProblemDetails)."""
        status = response.status_code
        if status < 400:
            return response
        problem = self._problem(response)
        message = _problem_summary(problem) or response.reason or f"HTTP {status}"
        message = redact(f"PowerOffice: {message}", self._secrets)
        error_type = _STATUS_ERRORS.get(status)
        if error_type is not None:
            raise error_type(message, status_code=status, problem=problem)
        if status in (400, 422):
            raise ValidationError(message, status_code=status, problem=problem)
        raise PowerOfficeError(message, status_code=status, problem=problem)

    @staticmethod
    def _problem(response: requests.Response) -> dict[str, Any] | None:
        try:
            body = loads(response.content) if response.content else None
        except ValueError:
            return None
        return body if isinstance(body, dict) else None

    def _json(self, response: requests.Response) -> Any:
        try:
            return loads(response.content)
        except ValueError:
            raise ValidationError(
                "PowerOffice sent a body that is not JSON", status_code=response.status_code
            ) from None

    def _v2(self, method: str, path: str, **kwargs: Any) -> Any:
        """One v2 call returning the decoded body, or ``None`` for 204."""
        response = self._check(self._send_authorized(V2, method, path, **kwargs))
        if response.status_code == 204 or not response.content:
            return None
        return self._json(response)

    def _v2_pages(
        self,
        path: str,
        params: Mapping[str, Any] | None = None,
        *,
        page_size: int = DEFAULT_PAGE_SIZE,
    ) -> Iterator[Any]:
        """Yield the items of every page: PoGo returns no total, so read until a short page
        or a 204."""
        if not 1 <= page_size <= 20_000:
            raise ValueError("page_size must be between 1 and 20000")
        page_number = 1
        while True:
            query = {**(params or {}), "PageNumber": page_number, "PageSize": page_size}
            body = self._v2("GET", path, params=query)
            if body is None:
                return
            if not isinstance(body, list):
                raise ValidationError(f"{path}: expected a list, got {type(body).__name__}")
            yield from body
            if len(body) < page_size:
                return
            page_number += 1

    def _v1(self, method: str, path: str, **kwargs: Any) -> Any:
        """One v1 call: unwrap ``{"data", "success", "count"}``; ``success: false`` is an error
        even though the status is 200."""
        return self._v1_envelope(method, path, **kwargs).get("data")

    def _v1_envelope(self, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        response = self._check(self._send_authorized(V1, method, path, **kwargs))
        if response.status_code == 204 or not response.content:
            return {"data": None, "success": True}
        body = self._json(response)
        if not isinstance(body, dict) or "success" not in body:
            raise ValidationError(
                f"{path}: expected the v1 envelope", status_code=response.status_code
            )
        if body.get("success") is not True:
            validation = body.get("validation")
            summary = None
            if isinstance(validation, dict):
                summary = validation.get("summary") or validation.get("message")
            message = redact(
                f"PowerOffice rejected {path}: {summary or 'validation failed'}", self._secrets
            )
            raise ValidationError(message, status_code=response.status_code, validation=validation)
        return body

    # --- onboarding (subscription key only, no bearer) -------------------------------------

    def _onboarding(self, path: str, body: Mapping[str, Any], *, idempotent: bool) -> Any:
        headers = {
            "Accept": JSON,
            "Content-Type": JSON,
            SUBSCRIPTION_HEADER: self.config.subscription_key,
        }
        response = self.transport.send(
            "POST", self._url(V2, path), headers=headers, data=dumps(body), idempotent=idempotent
        )
        return self._json(self._check(response))

    def onboarding_initiate(
        self, *, redirect_uri: str, client_org_no: str | None = None
    ) -> t.OnboardingInitiation:
        """Start "Gi tilgang": PoGo returns the URL to send the user to, valid for a while."""
        body = {
            "ApplicationKey": self.config.application_key,
            "ClientOrganizationNo": client_org_no,
            "RedirectUri": redirect_uri,
        }
        # Repeating an initiation only creates another unused temporary URL.
        return t.OnboardingInitiation.from_api(
            self._onboarding("/Onboarding/Initiate", body, idempotent=True)
        )

    def onboarding_finalize(self, *, onboarding_token: str) -> t.OnboardingResult:
        """Exchange the token from the redirect for the client key(s). The token is single-use,
        so a finalize that may have reached PoGo is never resent."""
        body = {"OnboardingToken": onboarding_token}
        return t.OnboardingResult.from_api(
            self._onboarding("/Onboarding/Finalize", body, idempotent=False)
        )

    # --- company ---------------------------------------------------------------------------

    def organization_settings(self) -> t.OrganizationSettings:
        return t.OrganizationSettings.from_api(self._v2("GET", "/OrganizationSettings"))

    def client_integration_information(self) -> t.ClientIntegrationInformation:
        return t.ClientIntegrationInformation.from_api(
            self._v2("GET", "/ClientIntegrationInformation")
        )

    # --- customers -------------------------------------------------------------------------

    def customers(
        self,
        *,
        changed_since: datetime | None = None,
        customer_nos: Iterable[int | str] | None = None,
        page_size: int = DEFAULT_PAGE_SIZE,
        on_unreadable: Unreadable | None = None,
    ) -> Iterator[t.Customer]:
        """All customers, page by page; ``changed_since`` is exclusive (PoGo's ``GreaterThan``).

        ``on_unreadable(record, reason)``: a record that cannot be read (missing or mistyped
        fields) is reported there and skipped instead of failing the whole listing."""
        params = {
            "lastChangedDateTimeOffsetGreaterThan": _timestamp(changed_since),
            "customerNos": _csv(customer_nos),
        }
        for item in self._v2_pages("/Customers", params, page_size=page_size):
            customer = _read(t.Customer.from_api, item, on_unreadable, "Number")
            if customer is not None:
                yield customer

    def customer(self, customer_id: int) -> t.Customer:
        return t.Customer.from_api(self._v2("GET", f"/Customers/{int(customer_id)}"))

    def patch_customer(
        self, customer_id: int, operations: Sequence[Mapping[str, Any]] | Mapping[str, Any]
    ) -> t.Customer:
        """Update a customer with JSON Patch (RFC 6902).

        ``operations`` is either the list of operations, or a dict of top-level fields to set
        (``{"TransferToDebtCollectionAgency": False}``), sent as ``replace`` operations.
        """
        if isinstance(operations, Mapping):
            # JSON Pointer escaping ("~0", "~1") comes from jsonpatch's pointer implementation.
            ops = [
                {"op": "replace", "path": JsonPointer.from_parts([key]).path, "value": value}
                for key, value in operations.items()
            ]
        else:
            ops = [dict(op) for op in operations]
            try:  # malformed operations fail here, before any request
                jsonpatch.JsonPatch(ops)
            except (jsonpatch.JsonPatchException, KeyError, TypeError) as exc:
                raise ValueError(f"not a JSON Patch: {exc}") from exc
        if not ops:
            raise ValueError("patch_customer needs at least one operation")
        body = self._v2(
            "PATCH",
            f"/Customers/{int(customer_id)}",
            body=ops,
            content_type=JSON_PATCH,
            idempotent=all(op.get("op") in ("replace", "test") for op in ops),
        )
        return t.Customer.from_api(body)

    # --- invoices and ledger ---------------------------------------------------------------

    def outgoing_invoices(
        self,
        *,
        only_unpaid: bool | None = None,
        balance_changed_since: datetime | None = None,
        changed_since: datetime | None = None,
        customer_nos: Iterable[int | str] | None = None,
        invoice_nos: Iterable[int | str] | None = None,
        from_date: date | None = None,
        to_date: date | None = None,
        page_size: int = DEFAULT_PAGE_SIZE,
        on_unreadable: Unreadable | None = None,
    ) -> Iterator[t.OutgoingInvoice]:
        """Outgoing invoices with PoGo's filters (timestamps exclusive). PoGo has no due-date
        filter: filter overdue yourselves.

        ``changed_since`` has no server-side filter on this endpoint (the v2 contract lists
        none), so it is applied here to ``LastChangedDateTimeOffset``: prefer
        ``balance_changed_since`` for polling payments. ``on_unreadable`` as for ``customers``.
        """
        params = {
            "onlyUnpaidInvoices": _bool(only_unpaid),
            "balanceLastChangedDateTimeOffsetGreaterThan": _timestamp(balance_changed_since),
            "customerNos": _csv(customer_nos),
            "invoiceNos": _csv(invoice_nos),
            "fromDate": from_date.isoformat() if from_date else None,
            "toDate": to_date.isoformat() if to_date else None,
        }
        threshold = t.utc(changed_since) if changed_since is not None else None
        for item in self._v2_pages("/OutgoingInvoices", params, page_size=page_size):
            invoice = _read(t.OutgoingInvoice.from_api, item, on_unreadable, "InvoiceNo")
            if invoice is None:
                continue
            if threshold is None or (
                invoice.last_changed is not None and invoice.last_changed > threshold
            ):
                yield invoice

    def outgoing_invoice(self, invoice_id: uuid.UUID | str) -> t.OutgoingInvoice:
        return t.OutgoingInvoice.from_api(
            self._v2("GET", f"/OutgoingInvoices/{uuid.UUID(str(invoice_id))}")
        )

    def customer_ledger_open_items(
        self,
        *,
        on: date,
        customer_nos: Iterable[int | str] | None = None,
        page_size: int = DEFAULT_PAGE_SIZE,
    ) -> Iterator[t.CustomerLedgerEntry]:
        """Open customer-ledger items as of ``on`` (inclusive)."""
        params = {"date": on.isoformat(), "customerNos": _csv(customer_nos)}
        for item in self._v2_pages("/Customerledger/OpenItems", params, page_size=page_size):
            yield t.CustomerLedgerEntry.from_api(item)

    def customer_ledger_entries_by_match_id(self, match_id: int) -> list[t.CustomerLedgerEntry]:
        """Every ledger entry sharing a match id: the invoice and what paid or credited it."""
        items = self._v2_pages("/Customerledger/EntriesByMatchId", {"matchId": int(match_id)})
        return [t.CustomerLedgerEntry.from_api(item) for item in items]

    # --- accounts, VAT, vouchers -----------------------------------------------------------

    def general_ledger_accounts(
        self, *, account_nos: Iterable[int | str] | None = None
    ) -> list[t.GeneralLedgerAccount]:
        items = self._v2_pages("/GeneralLedgerAccounts", {"accountNos": _csv(account_nos)})
        return [t.GeneralLedgerAccount.from_api(item) for item in items]

    def vat_codes(self) -> list[t.VatCode]:
        return [t.VatCode.from_api(item) for item in self._v2_pages("/VatCodes")]

    def create_bank_journal_proposal(self, payload: Mapping[str, Any]) -> t.JournalVoucher:
        """An unposted bank voucher that lands in Go's inbox for the creditor to review.

        No idempotency key exists for proposals, so an ambiguous failure is not resent."""
        body = self._v2("POST", "/JournalEntryVouchers/BankJournals", body=dict(payload))
        return t.JournalVoucher.from_api(body)

    def create_manual_journal_proposal(self, payload: Mapping[str, Any]) -> t.JournalVoucher:
        body = self._v2("POST", "/JournalEntryVouchers/ManualJournals", body=dict(payload))
        return t.JournalVoucher.from_api(body)

    def post_bank_journal_voucher(self, payload: Mapping[str, Any]) -> t.JournalVoucher:
        """Post a bank voucher directly. ``ExternalImportReference`` is required: PoGo keeps it
        unique per client (409 → ``Conflict``), which makes resending safe."""
        if not payload.get("ExternalImportReference"):
            raise ValueError("post_bank_journal_voucher needs an ExternalImportReference")
        body = self._v2("POST", "/Vouchers/BankJournals", body=dict(payload), idempotent=True)
        return t.JournalVoucher.from_api(body)

    def journal_entry_vouchers(
        self, *, created_since: datetime | None = None, is_posted: bool | None = None
    ) -> list[t.JournalEntryVoucherListItem]:
        """Journal-entry vouchers (proposals) of the client, lightweight; ``created_since`` is
        exclusive. Details come from the voucher type's own endpoint."""
        params = {
            "createdDateTimeOffsetGreaterThan": _timestamp(created_since),
            "isPosted": _bool(is_posted),
        }
        items = self._v2_pages("/JournalEntryVouchers", params)
        return [t.JournalEntryVoucherListItem.from_api(item) for item in items]

    def bank_journal_proposal(self, voucher_id: uuid.UUID | str) -> t.JournalVoucher:
        """One bank-journal proposal with its lines' header fields and its pages."""
        voucher_id = uuid.UUID(str(voucher_id))
        return t.JournalVoucher.from_api(
            self._v2("GET", f"/JournalEntryVouchers/BankJournals/{voucher_id}")
        )

    def add_voucher_page(
        self,
        voucher_id: uuid.UUID | str,
        *,
        filename: str,
        content: bytes,
        content_type: str = "application/pdf",
    ) -> None:
        """Attach a file (e.g. a PDF) to an unposted voucher as a page (multipart, ``file``).

        Not idempotent: an ambiguous failure raises ``Unavailable(maybe_processed=True)``; the
        caller checks the voucher's ``Pages`` before trying again."""
        voucher_id = uuid.UUID(str(voucher_id))
        body, multipart_type = encode_multipart_formdata(
            {"file": (filename, content, content_type)}
        )
        self._check(
            self._send_authorized(
                V2,
                "POST",
                f"/JournalEntryVouchers/{voucher_id}/VoucherPages",
                raw_body=body,
                content_type=multipart_type,
                idempotent=False,
            )
        )

    def voucher_documentation(self, voucher_id: uuid.UUID | str) -> list[t.VoucherDocumentation]:
        body = self._v2(
            "GET", "/VoucherDocumentation", params={"id": str(uuid.UUID(str(voucher_id)))}
        )
        return [t.VoucherDocumentation.from_api(item) for item in body or []]

    def voucher_documentation_download(
        self, voucher_id: uuid.UUID | str, *, documentation_type: str = "Pdf"
    ) -> bytes:
        response = self._check(
            self._send_authorized(
                V2,
                "GET",
                "/VoucherDocumentation/Download",
                params={
                    "id": str(uuid.UUID(str(voucher_id))),
                    "documentationType": documentation_type,
                },
                accept="*/*",
            )
        )
        return response.content

    # --- v1 DebtCollection -----------------------------------------------------------------

    def dc_is_active(self) -> bool:
        """May this agency create new cases for the company ("Inkassobyrå kan opprette nye saker")?"""
        data = self._v1("GET", "/DebtCollection/IsActiveDebtCollection")
        if not isinstance(data, bool):
            raise ValidationError("IsActiveDebtCollection: data is not a boolean", field="data")
        return data

    def dc_available_invoices(
        self, *, on_unreadable: Unreadable | None = None
    ) -> list[t.DebtCollectionInvoice]:
        """Invoices the creditor approved for collection (Inkasso → Godkjent), OData-paged.
        ``on_unreadable`` as for ``customers``."""
        invoices: list[t.DebtCollectionInvoice] = []
        skip = 0
        while True:
            envelope = self._v1_envelope(
                "GET",
                "/DebtCollection/Invoices/AvailableInvoices",
                params={"$top": V1_PAGE_SIZE, "$skip": skip},
            )
            page = envelope.get("data") or []
            if not isinstance(page, list):
                raise ValidationError("AvailableInvoices: expected a list")
            for item in page:
                invoice = _read(t.DebtCollectionInvoice.from_api, item, on_unreadable, "invoiceNo")
                if invoice is not None:
                    invoices.append(invoice)
            skip += len(page)
            count = envelope.get("count")
            if len(page) < V1_PAGE_SIZE or (isinstance(count, int) and skip >= count):
                return invoices

    def dc_create_case(
        self,
        *,
        code: str,
        invoice_ids: Sequence[uuid.UUID | str],
        external_case_url: str,
        balance_agency: Any = None,
    ) -> t.DebtCollectionCase:
        """Open a case: the invoices move to Inkasso → Åpne in Go. Go refuses it (a
        ``ValidationError``) while ``dc_is_active`` is false."""
        body: dict[str, Any] = {
            "code": code,
            "invoices": [{"id": str(invoice_id)} for invoice_id in invoice_ids],
            "externalCaseUrl": external_case_url,
        }
        if balance_agency is not None:
            body["balanceAgency"] = _number(balance_agency, "balance_agency")
        return t.DebtCollectionCase.from_api(self._v1("POST", "/DebtCollection", body=body))

    def dc_get_case(self, case_id: uuid.UUID | str) -> t.DebtCollectionCase:
        return t.DebtCollectionCase.from_api(
            self._v1("GET", f"/DebtCollection/{uuid.UUID(str(case_id))}")
        )

    def dc_list_cases(self) -> list[t.DebtCollectionCase]:
        return [
            t.DebtCollectionCase.from_api(item) for item in self._v1("GET", "/DebtCollection") or []
        ]

    def dc_add_invoices(
        self, *, case_id: uuid.UUID | str, invoice_ids: Sequence[uuid.UUID | str]
    ) -> t.DebtCollectionCase | None:
        body = {"caseId": str(case_id), "invoiceIds": [str(i) for i in invoice_ids]}
        data = self._v1("POST", "/DebtCollection/AddInvoicesToCase", body=body)
        return t.DebtCollectionCase.from_api(data) if isinstance(data, dict) else None

    def dc_update_status(
        self,
        *,
        case_id: uuid.UUID | str,
        status_text: str,
        is_case_closed: bool,
        updated_balance_agency: Any = None,
    ) -> None:
        """The status text and agency balance Go shows under Inkasso → Åpne. Setting the same
        status twice is harmless, so this one is retried on ambiguous failures."""
        body = {
            "caseId": str(case_id),
            "statusText": status_text,
            "isCaseClosed": is_case_closed,
        }
        if updated_balance_agency is not None:
            body["updatedBalanceAgency"] = _number(updated_balance_agency, "updated_balance_agency")
        self._v1("POST", "/DebtCollection/UpdateStatus", body=body, idempotent=True)

    def dc_merge_cases(
        self, *, case_ids: Sequence[uuid.UUID | str], case_no: str, external_case_url: str
    ) -> t.DebtCollectionCase | None:
        body = {
            "caseIds": [str(case_id) for case_id in case_ids],
            "caseNo": case_no,
            "externalCaseUrl": external_case_url,
        }
        data = self._v1("POST", "/DebtCollection/MergeCases", body=body)
        return t.DebtCollectionCase.from_api(data) if isinstance(data, dict) else None

    def dc_delete_case(self, case_id: uuid.UUID | str) -> None:
        """The agency rejects the case; the invoices go back to the creditor."""
        self._v1("DELETE", f"/DebtCollection/{uuid.UUID(str(case_id))}")

    def dc_matched_items_since(self, from_datetime: datetime) -> list[t.DebtCollectionInvoiceMatch]:
        """Payments, credit notes and write-offs matched to case invoices since a time.

        v1 returns ``DataPage<DebtCollectionCaseWithMatches>``: one entry per invoice, each
        with ``matchedItems``; they are flattened here."""
        data = self._v1(
            "GET",
            "/DebtCollection/GetAllMatchedItems",
            params={"fromDateTime": _timestamp(from_datetime)},
        )
        matches: list[t.DebtCollectionInvoiceMatch] = []
        for entry in data or []:
            reader = t.Reader(entry, "DebtCollectionCaseWithMatches")
            matches.extend(
                t.DebtCollectionInvoiceMatch.from_api(item) for item in reader.items("matchedItems")
            )
        return matches

    def dc_invoice_pdf(self, invoice_id: uuid.UUID | str) -> bytes:
        """The original invoice PDF ("Legg ved originalfaktura"): raw bytes, not the envelope."""
        response = self._check(
            self._send_authorized(
                V1,
                "GET",
                f"/DebtCollection/GetInvoicePdf/{uuid.UUID(str(invoice_id))}",
                accept="application/pdf",
            )
        )
        return response.content
