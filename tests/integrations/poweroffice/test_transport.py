"""Retries, backoff, timeouts and the mapping of error responses to typed errors."""

import pytest
import requests
from urllib3.exceptions import NewConnectionError

from integrations.poweroffice import (
    Conflict,
    Forbidden,
    NotFound,
    PowerOfficeError,
    RateLimited,
    Unavailable,
    ValidationError,
)

from .fakes import CLIENT_KEY, SUBSCRIPTION_KEY, make_client, problem, response

ORG_PATH = "/v2/OrganizationSettings"
ORG = {"Id": "7f0c8f7e-5f43-4bd0-9a4e-36d1a3a0d001", "Name": "Fjord AS"}
PROPOSAL_PATH = "/v2/JournalEntryVouchers/BankJournals"
PROPOSAL = {"VoucherDate": "2026-11-02", "CurrencyCode": "NOK", "BankJournalLines": []}
CREATED = {"Id": "0b7a7c56-7f7e-4a4e-9a0e-2a6c2b0f0a11", "VoucherDate": "2026-11-02"}


def _refused() -> requests.ConnectionError:
    return requests.ConnectionError(NewConnectionError(None, "Connection refused"))


def test_every_request_carries_the_configured_timeout(fake, pogo):
    fake.script("GET", ORG_PATH, response(200, ORG))

    pogo.organization_settings()

    assert [s.timeout for s in fake.sent] == [7.5, 7.5]


def test_429_waits_for_retry_after_then_retries(fake, pogo, sleeps):
    fake.script(
        "GET",
        ORG_PATH,
        response(429, {"statusCode": 429}, headers={"Retry-After": "3"}),
        response(200, ORG),
    )

    assert pogo.organization_settings().name == "Fjord AS"

    assert sleeps == [3.0]
    assert len(fake.api_calls()) == 2


def test_429_waits_at_least_one_second(fake, pogo, sleeps):
    fake.script(
        "GET",
        ORG_PATH,
        response(429, {"statusCode": 429}),
        response(429, {"statusCode": 429}, headers={"Retry-After": "0"}),
        response(200, ORG),
    )

    pogo.organization_settings()

    assert sleeps == [1.0, 1.0]


def test_429_retries_are_bounded(fake, pogo, sleeps):
    fake.handle(
        "GET",
        ORG_PATH,
        lambda sent: response(429, {"statusCode": 429}, headers={"Retry-After": "2"}),
    )

    with pytest.raises(RateLimited) as caught:
        pogo.organization_settings()

    assert caught.value.retry_after == 2.0
    assert len(fake.api_calls()) == 6  # the first try and five retries
    assert sleeps == [2.0] * 5


def test_5xx_on_a_get_is_retried_with_exponential_backoff(fake, sleeps):
    client = make_client(fake, sleeps=sleeps)
    client.transport.jitter = lambda: 1.0  # the top of each jitter range
    fake.script(
        "GET",
        ORG_PATH,
        problem(500, "Oops"),
        problem(502, "Bad gateway"),
        problem(503, "Busy"),
        response(200, ORG),
    )

    assert client.organization_settings().name == "Fjord AS"

    assert sleeps == [0.5, 1.0, 2.0]


def test_backoff_has_jitter_and_a_cap(fake):
    client = make_client(fake)
    client.transport.jitter = lambda: 0.5

    assert client.transport.backoff(0) == 0.25
    assert client.transport.backoff(10) == 4.0  # half of the 8 s cap


def test_5xx_retries_are_bounded_then_unavailable(fake, pogo, sleeps):
    fake.handle("GET", ORG_PATH, lambda sent: problem(503, "Busy"))

    with pytest.raises(Unavailable) as caught:
        pogo.organization_settings()

    assert caught.value.status_code == 503
    assert len(fake.api_calls()) == 5  # the first try and four retries
    assert len(sleeps) == 4


@pytest.mark.parametrize(
    "failure",
    [
        requests.ReadTimeout("read timed out"),
        requests.ConnectionError("Connection aborted: RemoteDisconnected"),
    ],
    ids=["timeout", "dropped-connection"],
)
def test_timeouts_and_dropped_connections_on_a_get_are_retried(fake, pogo, sleeps, failure):
    fake.script("GET", ORG_PATH, failure, response(200, ORG))

    assert pogo.organization_settings().name == "Fjord AS"

    assert len(sleeps) == 1


def test_persistent_timeouts_become_unavailable(fake, pogo):
    fake.handle("GET", ORG_PATH, lambda sent: requests.ReadTimeout("read timed out"))

    with pytest.raises(Unavailable) as caught:
        pogo.organization_settings()

    assert caught.value.status_code is None
    assert "timeout" in str(caught.value)
    assert len(fake.api_calls()) == 5


def test_a_post_without_idempotency_key_is_not_resent_after_a_500(fake, pogo, sleeps):
    fake.script("POST", PROPOSAL_PATH, problem(500, "Oops"), response(201, CREATED))

    with pytest.raises(Unavailable) as caught:
        pogo.create_bank_journal_proposal(PROPOSAL)

    assert caught.value.maybe_processed is True
    assert len(fake.api_calls()) == 1
    assert sleeps == []


def test_a_post_is_not_resent_after_a_read_timeout(fake, pogo):
    fake.script(
        "POST", PROPOSAL_PATH, requests.ReadTimeout("read timed out"), response(201, CREATED)
    )

    with pytest.raises(Unavailable) as caught:
        pogo.create_bank_journal_proposal(PROPOSAL)

    assert caught.value.maybe_processed is True
    assert len(fake.api_calls()) == 1


@pytest.mark.parametrize(
    "failure",
    [
        _refused(),
        requests.ConnectTimeout("connect timed out"),
        problem(503, "Busy"),
        response(429, {"statusCode": 429}),
    ],
    ids=["refused", "connect-timeout", "503", "429"],
)
def test_a_post_is_resent_when_it_never_reached_pogo(fake, pogo, failure):
    fake.script("POST", PROPOSAL_PATH, failure, response(201, CREATED))

    voucher = pogo.create_bank_journal_proposal(PROPOSAL)

    assert str(voucher.id) == CREATED["Id"]
    assert len(fake.api_calls()) == 2


@pytest.mark.parametrize(
    ("status", "error_type"),
    [
        (400, ValidationError),
        (403, Forbidden),
        (404, NotFound),
        (409, Conflict),
        (415, PowerOfficeError),
    ],
)
def test_4xx_maps_to_a_typed_error_without_retry(fake, pogo, sleeps, status, error_type):
    fake.script("GET", ORG_PATH, problem(status, "Refused", "Because."))

    with pytest.raises(error_type) as caught:
        pogo.organization_settings()

    assert caught.value.status_code == status
    assert "Refused: Because." in str(caught.value)
    assert len(fake.api_calls()) == 1
    assert sleeps == []


def test_validation_error_carries_the_problem_details(fake, pogo):
    fake.script(
        "GET", ORG_PATH, problem(400, "Unable to cast object(s)", "PageSize must be a number")
    )

    with pytest.raises(ValidationError) as caught:
        pogo.organization_settings()

    assert caught.value.problem["Title"] == "Unable to cast object(s)"
    assert caught.value.problem["Status"] == 400


def test_error_messages_never_contain_keys(fake, pogo):
    fake.script(
        "GET", ORG_PATH, problem(403, "Forbidden", f"client {CLIENT_KEY} via {SUBSCRIPTION_KEY}")
    )

    with pytest.raises(Forbidden) as caught:
        pogo.organization_settings()

    assert CLIENT_KEY not in str(caught.value)
    assert SUBSCRIPTION_KEY not in str(caught.value)


def test_gateway_errors_without_problem_details_still_say_why(fake, pogo):
    fake.script(
        "GET", ORG_PATH, response(403, {"statusCode": 403, "message": "Out of call volume quota."})
    )

    with pytest.raises(Forbidden, match="Out of call volume quota"):
        pogo.organization_settings()


def test_a_body_that_is_not_json_is_a_validation_error(fake, pogo):
    fake.script("GET", ORG_PATH, response(200, raw=b"<html>maintenance</html>"))

    with pytest.raises(ValidationError):
        pogo.organization_settings()


def test_request_count_includes_token_requests_and_retries(fake, pogo):
    fake.script("GET", ORG_PATH, problem(503, "Busy"), response(200, ORG))

    pogo.organization_settings()

    assert pogo.request_count == 3
