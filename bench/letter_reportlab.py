"""The reportlab candidate of ``letters_engines`` (issue 19): the inkassovarsel — the kind the
bench's letters are — laid out with reportlab's platypus, to measure what a third engine
would cost. It is a measurement, not a second home for the wording: the letters are drawn
from ``templates/letters/*.typ`` only, and ``letters_engines`` checks this one's words against
Typst's for every letter, so a change of wording there fails here until it is copied (or
this candidate is dropped).
"""

from __future__ import annotations

import io
from xml.sax.saxutils import escape

MM = 72 / 25.4
WIDTH, HEIGHT = 210 * MM, 297 * MM
LEFT, RIGHT, TOP, BOTTOM = 20 * MM, 18 * MM, 16 * MM, 24 * MM
NAVY, GREY, RED = "#1f3b57", "#555555", "#b03a2e"

_setup = {}


def _fonts():
    if not _setup:
        from reportlab.lib.fonts import addMapping
        from reportlab.pdfbase import pdfmetrics
        from reportlab.pdfbase.ttfonts import TTFont

        base = "/usr/share/fonts/truetype/dejavu/"
        pdfmetrics.registerFont(TTFont("DejaVuSans", base + "DejaVuSans.ttf"))
        pdfmetrics.registerFont(TTFont("DejaVuSans-Bold", base + "DejaVuSans-Bold.ttf"))
        addMapping("DejaVuSans", 0, 0, "DejaVuSans")
        addMapping("DejaVuSans", 1, 0, "DejaVuSans-Bold")
        _setup["done"] = True


def _styles():
    from reportlab.lib.styles import ParagraphStyle

    body = ParagraphStyle("body", fontName="DejaVuSans", fontSize=9, leading=9 * 1.38)
    return {
        "body": body,
        "h1": ParagraphStyle(
            "h1",
            parent=body,
            fontName="DejaVuSans-Bold",
            fontSize=16,
            leading=20,
            textColor=NAVY,
            spaceBefore=4 * MM,
            spaceAfter=1 * MM,
        ),
        "sub": ParagraphStyle("sub", parent=body, textColor="#333333", spaceAfter=3 * MM),
        "h2": ParagraphStyle(
            "h2",
            parent=body,
            fontName="DejaVuSans-Bold",
            fontSize=10,
            leading=13.8,
            textColor=NAVY,
            spaceBefore=4 * MM,
            spaceAfter=1.5 * MM,
        ),
        "p": ParagraphStyle("p", parent=body, spaceAfter=2 * MM),
        "small": ParagraphStyle(
            "small",
            parent=body,
            fontSize=7.5,
            leading=7.5 * 1.38,
            textColor="#444444",
            spaceAfter=2 * MM,
        ),
        "legal": ParagraphStyle(
            "legal", parent=body, fontSize=8, leading=8 * 1.38, spaceAfter=2 * MM
        ),
        "box": ParagraphStyle("box", parent=body, fontSize=8.5, leading=8.5 * 1.38),
        "cell": ParagraphStyle("cell", parent=body),
    }


def _e(value) -> str:
    return escape(str(value))


def _lines_table(header, rows, num, total=None, widths=None):
    from reportlab.platypus import Table, TableStyle

    data = [list(header)] + [list(row) for row in rows]
    style = [
        ("FONT", (0, 0), (-1, -1), "DejaVuSans", 9),
        ("FONT", (0, 0), (-1, 0), "DejaVuSans", 8),
        ("TEXTCOLOR", (0, 0), (-1, 0), GREY),
        ("LINEBELOW", (0, 0), (-1, 0), 0.75, "#999999"),
        ("LINEBELOW", (0, 1), (-1, -1), 0.25, "#dddddd"),
        ("LEFTPADDING", (0, 0), (-1, -1), 1.5 * MM),
        ("RIGHTPADDING", (0, 0), (-1, -1), 1.5 * MM),
        ("TOPPADDING", (0, 0), (-1, -1), 1 * MM),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 1 * MM),
    ]
    for col in num:
        style.append(("ALIGN", (col, 0), (col, -1), "RIGHT"))
    if total is not None:
        label, amount, span = total
        row = [label] + [""] * (span - 1) + [amount]
        data.append(row)
        last = len(data) - 1
        style += [
            ("FONT", (0, last), (-1, last), "DejaVuSans-Bold", 10),
            ("LINEABOVE", (0, last), (-1, last), 1, "#111111"),
            ("LINEBELOW", (0, last), (-1, last), 0, "#ffffff"),
            ("ALIGN", (-1, last), (-1, last), "RIGHT"),
        ]
        if span > 1:
            style.append(("SPAN", (0, last), (span - 1, last)))
    width = WIDTH - LEFT - RIGHT
    table = Table(data, colWidths=widths or [None] * len(header), hAlign="LEFT")
    if widths is None:
        table = Table(data, colWidths=[width / len(header)] * len(header), hAlign="LEFT")
    table.setStyle(TableStyle(style))
    return table


def _numbered_canvas(data: dict):
    from reportlab.pdfgen.canvas import Canvas

    footer = (
        f"{data['agency']['name']} · Org.nr. {data['agency']['org_number']} · "
        f"{data['agency']['address']} · {data['agency']['email']} · Tlf. {data['agency']['phone']}"
    )
    header = f"{data['agency']['name']} · Sak {data['case_number']} · KID {data['kid']}"

    class NumberedCanvas(Canvas):
        """«Side X av Y»: the pages are kept until the count is known."""

        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            self._pages = []

        def showPage(self):  # noqa: N802 (reportlab's name)
            self._pages.append(dict(self.__dict__))
            self._startPage()

        def save(self):
            total = len(self._pages)
            for number, state in enumerate(self._pages, start=1):
                self.__dict__.update(state)
                self.setFont("DejaVuSans", 7)
                self.setFillColor(GREY)
                self.drawString(LEFT, BOTTOM / 2, footer)
                self.drawRightString(WIDTH - RIGHT, BOTTOM / 2, f"Side {number} av {total}")
                if number > 1:
                    self.drawRightString(WIDTH - RIGHT, HEIGHT - TOP / 2, header)
                super().showPage()
            super().save()

    return NumberedCanvas


def _head(canvas, data: dict) -> None:
    """Page 1: letterhead, the window address, the letter's facts."""
    agency = data["agency"]
    top = HEIGHT - TOP
    canvas.setFillColor(NAVY)
    canvas.setFont("DejaVuSans-Bold", 15)
    canvas.drawString(LEFT, top - 15, agency["name"])
    canvas.setFont("DejaVuSans", 7.5)
    canvas.setFillColor(GREY)
    canvas.drawString(LEFT, top - 26, f"Inkassobyrå · Org.nr. {agency['org_number']}")
    canvas.setFillColor("#333333")
    right = WIDTH - RIGHT
    for i, line in enumerate(
        (
            agency["address"],
            f"{agency['email']} · Tlf. {agency['phone']}",
            f"Kontonr. {agency['account_number_display']}",
        )
    ):
        canvas.drawRightString(right, top - 8 - i * 10.35, line)
    canvas.setStrokeColor(NAVY)
    canvas.setLineWidth(1.5)
    canvas.line(LEFT, top - 17 * MM, right, top - 17 * MM)
    block = top - 24.5 * MM
    canvas.setFont("DejaVuSans", 6.5)
    canvas.setFillColor(GREY)
    canvas.drawString(
        LEFT, block - 4 * MM - 6.5, f"Avsender: {agency['name']}, {agency['address']}"
    )
    canvas.setFillColor("#111111")
    canvas.setFont("DejaVuSans-Bold", 10)
    y = block - 4 * MM - 6.5 - 2.5 * MM - 10
    canvas.drawString(LEFT, y, data["recipient"]["name"])
    canvas.setFont("DejaVuSans", 10)
    for line in data["recipient"]["lines"]:
        y -= 13.5
        canvas.drawString(LEFT, y, line)
    x = right - 68 * MM
    y = block - 8
    for label, value in data["meta"]:
        canvas.setFont("DejaVuSans", 8.5)
        canvas.setFillColor(GREY)
        canvas.drawString(x, y, label)
        canvas.setFont("DejaVuSans-Bold", 8.5)
        canvas.setFillColor("#111111")
        canvas.drawRightString(right, y, value)
        y -= 8.5 * 1.38 + 1.2 * MM


def _story(data: dict) -> list:
    from reportlab.platypus import KeepTogether, Paragraph, Spacer, Table, TableStyle

    s = _styles()
    d = data
    agency, creditor = d["agency"], d["creditor"]
    story = [
        Paragraph("Inkassovarsel", s["h1"]),
        Paragraph("Varsel etter inkassoloven § 9", s["sub"]),
        Paragraph(
            f"{_e(creditor['name'])} har gitt oss i oppdrag å kreve inn et forfalt krav mot deg. "
            f"Kravet gjelder faktura{'en' if len(d['invoices']) == 1 else 'ene'} nedenfor, som "
            "ikke er betalt innen forfall.",
            s["p"],
        ),
        Paragraph(
            f'<font color="{RED}"><b>Betal kr {_e(d["total"])} innen {_e(d["deadline"])}.</b></font> '
            "Hvis kravet ikke er betalt innen fristen, vil inkasso bli satt i gang. Da må du i "
            "tillegg betale inkassosalær og flere renter.",
            s["p"],
        ),
        Paragraph("Hva kravet gjelder", s["h2"]),
        _lines_table(
            ("Fakturanr.", "Fakturadato", "Forfallsdato", "Fakturabeløp (kr)"),
            [(i["number"], i["date"], i["due_date"], i["amount"]) for i in d["invoices"]],
            num=(3,),
        ),
        Paragraph("Hva du skal betale", s["h2"]),
        _lines_table(
            (
                "Spesifikasjon av det som gjenstår"
                if d["earlier_payments"]
                else "Spesifikasjon av kravet",
                "Beløp (kr)",
            ),
            [(line["label"], line["display"]) for line in d["lines"]],
            num=(1,),
            total=("Å betale", d["total"], 1),
        ),
    ]
    if d["principal_original"]:
        story.append(
            Paragraph(
                f"Opprinnelig hovedstol: kr {_e(d['principal_original'])}. Hovedstol som "
                "gjenstår er det som er igjen når innbetalinger, kreditnotaer og direkte "
                "betalinger til kreditor er trukket fra"
                + (" (se «Innbetalinger og fradrag»)" if d["show_earlier_payments"] else "")
                + ".",
                s["small"],
            )
        )
    interest = d["interest"]
    if interest["show"]:
        per = interest["per_invoice"]
        story += [
            Paragraph("Forsinkelsesrente", s["h2"]),
            _lines_table(
                (("Faktura",) if per else ())
                + ("Periode", "Dager", "Grunnlag (kr)", "Sats p.a.", "Rente (kr)"),
                [
                    ((line["invoice"],) if per else ())
                    + (
                        f"{line['first']}–{line['last']}",
                        line["days"],
                        line["base"],
                        f"{line['rate']} %",
                        line["amount"],
                    )
                    for line in interest["lines"]
                ],
                num=(2, 3, 4, 5) if per else (1, 2, 3, 4),
                total=(
                    f"Forsinkelsesrente til og med {interest['until']}",
                    interest["total"],
                    5 if per else 4,
                ),
            ),
            Paragraph(
                "Forsinkelsesrente etter forsinkelsesrenteloven, beregnet per dag med satsen som "
                "gjaldt den dagen (satsen fastsettes for hvert halvår, 1. januar og 1. juli), "
                "dager/365, uten rentes rente, av hovedstolen som gjensto den dagen: en "
                "innbetaling eller kreditnota senker grunnlaget fra dagen etter. Derfor får en "
                "periode med ny sats eller nytt grunnlag en egen linje."
                + (
                    " Hver linje er avrundet for seg; summen er renten som er beregnet og ført "
                    "på saken."
                    if interest["rounded_apart"]
                    else ""
                )
                + (
                    " Det som er betalt av renten, er trukket fra i spesifikasjonen ovenfor."
                    if d["earlier_payments"]
                    else ""
                ),
                s["small"],
            ),
        ]
    if d["show_earlier_payments"]:
        raise NotImplementedError("reportlab candidate: earlier payments not laid out")
    pay = Table(
        [
            ["Beløp å betale", f"kr {d['total']}"],
            ["Til kontonummer", agency["account_number_display"]],
            ["KID", d["kid"]],
            ["Betalingsfrist", d["deadline"]],
        ],
        colWidths=[(WIDTH - LEFT - RIGHT - 8 * MM) / 2] * 2,
    )
    pay.setStyle(
        TableStyle(
            [
                ("FONT", (0, 0), (0, -1), "DejaVuSans", 9),
                ("FONT", (1, 0), (1, -1), "DejaVuSans-Bold", 10.5),
                ("ALIGN", (1, 0), (1, -1), "RIGHT"),
            ]
        )
    )
    note = Paragraph(
        f"Bruk KID når du betaler, så blir betalingen registrert på riktig sak. Betal til "
        f"{_e(agency['name'])}, ikke til {_e(creditor['name'])}.",
        s["small"],
    )
    box = Table([[pay], [note]], colWidths=[WIDTH - LEFT - RIGHT])
    box.setStyle(
        TableStyle(
            [
                ("BOX", (0, 0), (-1, -1), 1, NAVY),
                ("BACKGROUND", (0, 0), (-1, -1), "#eef3f8"),
            ]
        )
    )
    story += [Spacer(1, 3 * MM), box, Spacer(1, 3 * MM)]
    rate = (
        f" ({_e(d['interest_rate'])} % per år per {_e(d['sent_on'])})"
        if d["has_interest_rate"]
        else ""
    )
    story += [
        Paragraph(
            f"Fristen er {_e(d['deadline'])}; den er minst 14 dager fra dette varselets dato "
            f"({_e(d['sent_on'])}). Forsinkelsesrente etter forsinkelsesrenteloven løper fra "
            f"forfallsdato til betaling skjer{rate}.",
            s["legal"],
        ),
        Paragraph(
            "Mener du at kravet ikke er riktig, må du gi oss beskjed innen fristen, på Min side "
            f"eller til {_e(agency['email'])}. Saken stanses da til innsigelsen er avklart.",
            s["legal"],
        ),
    ]
    login = (
        f"og tilgangskoden <b>{_e(d['access_code'])}</b>,"
        if d["access_code"]
        else "og tilgangskoden fra brevet vårt,"
    )
    minside = Table(
        [
            [
                Paragraph(
                    "<b>Min side:</b> Se saken, brevene og hva du skylder, gi beskjed om "
                    "innsigelser eller be om en nedbetalingsavtale. Logg inn på "
                    f"<b>{_e(d['min_side_url'])}</b> med saksnummer <b>{_e(d['case_number'])}</b> "
                    f"{login} eller med lenken i e-posten hvis du fikk brevet på e-post. "
                    "KID-en er bare til betalingen og gir ikke tilgang.",
                    s["box"],
                )
            ]
        ],
        colWidths=[WIDTH - LEFT - RIGHT],
    )
    minside.setStyle(TableStyle([("BOX", (0, 0), (-1, -1), 0.75, NAVY)]))
    story += [
        Spacer(1, 3 * MM),
        KeepTogether([minside]),
        Spacer(1, 3 * MM),
        Paragraph(
            f"Spørsmål om saken? Kontakt oss på {_e(agency['email'])} eller telefon "
            f"{_e(agency['phone'])}, og oppgi saksnummer {_e(d['case_number'])}.",
            s["small"],
        ),
        Spacer(1, 4 * MM),
        Paragraph(
            f"Med vennlig hilsen<br/><b>{_e(agency['name'])}</b><br/>"
            f'<font size="7.5" color="#444444">på vegne av {_e(creditor["name"])} '
            f"(org.nr. {_e(creditor['org_number'])})</font>",
            s["p"],
        ),
    ]
    return story


def reportlab_pdf(data: dict) -> bytes:
    """The inkassovarsel of ``data`` (``letters.letter_data``) as PDF, drawn with reportlab."""
    from reportlab.platypus import BaseDocTemplate, Frame, PageTemplate

    if data["kind"] != "inkassovarsel":
        raise NotImplementedError(f"reportlab candidate: no {data['kind']} letter")
    _fonts()
    out = io.BytesIO()
    doc = BaseDocTemplate(
        out,
        pagesize=(WIDTH, HEIGHT),
        leftMargin=LEFT,
        rightMargin=RIGHT,
        topMargin=TOP,
        bottomMargin=BOTTOM,
        title=data["title"],
    )
    first = Frame(
        LEFT,
        BOTTOM,
        WIDTH - LEFT - RIGHT,
        HEIGHT - BOTTOM - 80 * MM,
        id="first",
        leftPadding=0,
        rightPadding=0,
        topPadding=0,
        bottomPadding=0,
    )
    later = Frame(
        LEFT,
        BOTTOM,
        WIDTH - LEFT - RIGHT,
        HEIGHT - BOTTOM - TOP,
        id="later",
        leftPadding=0,
        rightPadding=0,
        topPadding=0,
        bottomPadding=0,
    )
    doc.addPageTemplates(
        [
            PageTemplate(
                "first",
                [first],
                onPage=lambda canvas, _doc: _head(canvas, data),
                autoNextPageTemplate="later",
            ),
            PageTemplate("later", [later]),
        ]
    )
    doc.build(_story(data), canvasmaker=_numbered_canvas(data))
    return out.getvalue()
