"""A small, valid PDF of an invoice, written by hand (one page, Helvetica, no dependencies)."""

from pogo_sandbox.models import OutgoingInvoice


def _escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")


def _latin1(text: str) -> bytes:
    return text.encode("latin-1", errors="replace")


def _amount(value) -> str:
    whole, _, cents = f"{value:.2f}".partition(".")
    groups = f"{int(whole):,}".replace(",", " ")
    return f"kr {groups},{cents}"


def text_pdf(lines: list[str]) -> bytes:
    """A one-page PDF showing ``lines`` (Latin-1 text) top to bottom."""
    stream_lines = ["BT", "/F1 12 Tf", "14 TL", "56 780 Td"]
    for line in lines:
        stream_lines.append(f"({_escape(line)}) Tj T*")
    stream_lines.append("ET")
    stream = _latin1("\n".join(stream_lines))
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] "
        b"/Resources << /Font << /F1 5 0 R >> >> /Contents 4 0 R >>",
        b"<< /Length " + str(len(stream)).encode() + b" >>\nstream\n" + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
    ]
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n".encode() + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    for offset in offsets:
        out += f"{offset:010d} 00000 n \n".encode()
    out += (
        f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n"
    ).encode()
    return bytes(out)


def invoice_pdf(invoice: OutgoingInvoice) -> bytes:
    company, customer = invoice.company, invoice.customer
    lines = [
        company.name,
        f"Org.nr. {company.org_number}",
        f"{company.address_line}, {company.zip_code} {company.city}".strip(", "),
        "",
        f"FAKTURA {invoice.invoice_no}",
        "",
        f"Kunde: {customer.name} (kundenr. {customer.number})",
        f"{customer.address_line1}, {customer.zip_code} {customer.city}".strip(", "),
        "",
        f"Fakturadato: {invoice.voucher_date:%d.%m.%Y}",
        f"Forfallsdato: {invoice.due_date:%d.%m.%Y}",
        f"KID: {invoice.cid}",
        "",
        f"Netto: {_amount(invoice.net_amount)}",
        f"Å betale: {_amount(invoice.total_amount)}",
    ]
    return text_pdf(lines)
