"""End to end, against the in-process sandbox Go: the debtor pays the agency by KID (a camt.054
file) → the case closes as paid → the settlement run → the voucher proposal in Go's voucher
inbox with balanced lines and the statement attached → the creditor posts it in Go → our sync:
the invoice's Balance is 0 in Go, no direct payment is booked, and the case is closed in Go's
Inkasso menu."""

from __future__ import annotations

from decimal import Decimal

import pytest

from collections_cases.models import CollectionCase, LedgerEntry, Settlement
from collections_cases.payments.imports import payments_import_file
from collections_cases.settlements.services import settle
from integrations.models import MatchedItem
from integrations.services.outbox import deliver_outbox
from pogo_sandbox import domain
from pogo_sandbox.models import Customer as PogoCustomer
from pogo_sandbox.models import DebtCollectionCase as PogoCase
from pogo_sandbox.models import GeneralLedgerAccount, JournalVoucher
from tests.integrations.settlement_support import owed_on
from tests.integrations.test_sync import TODAY, connect, fast_clients

CAMT = """<?xml version="1.0" encoding="UTF-8"?>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.054.001.08">
  <BkToCstmrDbtCdtNtfctn>
    <GrpHdr><MsgId>E2E-{kid}</MsgId><CreDtTm>{day}T06:00:00</CreDtTm></GrpHdr>
    <Ntfctn>
      <Id>NTF-E2E-{kid}</Id>
      <CreDtTm>{day}T06:00:00</CreDtTm>
      <Acct><Id><BBAN>15036123459</BBAN></Id></Acct>
      <Ntry>
        <NtryRef>E1</NtryRef>
        <Amt Ccy="NOK">{amount}</Amt>
        <CdtDbtInd>CRDT</CdtDbtInd>
        <Sts><Cd>BOOK</Cd></Sts>
        <BookgDt><Dt>{day}</Dt></BookgDt>
        <ValDt><Dt>{day}</Dt></ValDt>
        <NtryDtls>
          <TxDtls>
            <Refs><AcctSvcrRef>E2E-{kid}-1</AcctSvcrRef></Refs>
            <Amt Ccy="NOK">{amount}</Amt>
            <CdtDbtInd>CRDT</CdtDbtInd>
            <RltdPties><Dbtr><Nm>Ola Nordmann</Nm></Dbtr></RltdPties>
            <RmtInf>
              <Strd>
                <CdtrRefInf>
                  <Tp><CdOrPrtry><Cd>SCOR</Cd></CdOrPrtry></Tp>
                  <Ref>{kid}</Ref>
                </CdtrRefInf>
              </Strd>
            </RmtInf>
          </TxDtls>
        </NtryDtls>
      </Ntry>
    </Ntfctn>
  </BkToCstmrDbtCdtNtfctn>
</Document>
"""


@pytest.fixture
def go(transactional_db, settings, pogo_wsgi, monkeypatch, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    fast_clients(monkeypatch, pogo_wsgi, settings)
    go = connect(settings)
    go.http = pogo_wsgi
    return go


def test_paid_by_kid_settled_voucher_posted_in_go_and_case_closed_there(go):
    # Given a case in Go's Inkasso menu for a 1000 kr invoice
    invoice = go.invoice(go.customer(), "1000.00")
    go.sync()
    case = CollectionCase.objects.get()
    assert PogoCase.objects.get().status == PogoCase.Status.ACTIVE

    # When the debtor pays the agency by KID what the case owes that day (the invoice and
    # the interest accrued up to the payment day)
    owed = owed_on(case, TODAY)
    assert owed > Decimal("1000.00")
    camt = CAMT.format(kid=case.kid, amount=str(owed), day=TODAY.isoformat())
    payments_import_file(content=camt.encode(), file_name="camt054.xml")
    case.refresh_from_db()
    assert case.status == CollectionCase.Status.CLOSED
    assert case.close_reason == CollectionCase.CloseReason.PAID
    deliver_outbox()
    assert PogoCase.objects.get().status == PogoCase.Status.ACTIVE  # waits for the voucher

    # and the settlement run pays it out and sends the voucher
    report = settle(on=TODAY, creditor_ids=[go.creditor.pk])
    [settlement] = Settlement.objects.filter(pk__in=report.created)
    assert settlement.statement_pdf
    deliver_outbox()

    # Then the proposal waits in Go's voucher inbox, balanced, with the statement attached
    settlement.refresh_from_db()
    assert settlement.voucher_status == Settlement.VoucherStatus.SENT
    voucher = JournalVoucher.objects.get()
    assert not voucher.is_posted
    debits, credits = domain.voucher_balance(voucher.lines)
    assert debits == credits == Decimal("1000.00")
    bank = GeneralLedgerAccount.objects.get(company=go.company, account_no=1920).pk
    subledger = PogoCustomer.objects.get().subledger_account_id
    assert {
        (line.get("DebitAccountId"), line.get("CreditAccountId")) for line in voucher.lines
    } == {
        (bank, None),
        (None, subledger),
    }
    assert bytes(voucher.pages.get().content)[:4] == b"%PDF"
    # and the case is closed in Go's Inkasso menu now that its voucher is delivered
    pogo_case = PogoCase.objects.get()
    assert pogo_case.status == PogoCase.Status.CLOSED
    assert pogo_case.balance_agency == 0

    # When the creditor posts it in Go and we sync
    ledger_before = sorted(LedgerEntry.objects.filter(case=case).values_list("kind", "amount"))
    domain.post_voucher(voucher)
    go.sync()

    # Then the invoice is paid in Go, and nothing new is booked on our side
    invoice.refresh_from_db()
    assert invoice.balance == 0
    assert case.invoices.get().balance == 0
    assert MatchedItem.objects.get().outcome == MatchedItem.Outcome.OWN_SETTLEMENT
    assert (
        sorted(LedgerEntry.objects.filter(case=case).values_list("kind", "amount")) == ledger_before
    )
    assert not LedgerEntry.objects.filter(kind=LedgerEntry.Kind.DIRECT_PAYMENT).exists()
    case.refresh_from_db()
    assert case.close_reason == CollectionCase.CloseReason.PAID
    assert PogoCase.objects.get().status == PogoCase.Status.CLOSED
