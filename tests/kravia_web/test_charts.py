"""Server-side SVG charts: what counts as data, and drawing edge cases."""

from kravia_web.charts import bar_chart, column_chart, grouped

LABELS = ["jan.", "feb.", "mars"]


def _column(values, **kwargs):
    return column_chart(
        chart_id="c",
        title="Tittel",
        desc="Beskrivelse",
        labels=LABELS,
        values=values,
        x_label="Måned",
        y_label="Dager",
        fmt=lambda v: "–" if v is None else grouped(v, 1),
        **kwargs,
    )


def test_nothing_to_draw_without_values_or_with_only_zeros():
    assert _column([None, None, None]) is None
    assert _column([0, 0, None]) is None


def test_an_average_of_zero_days_is_a_result():
    svg = _column([None, 0.0, None], zero_is_data=True)
    assert svg is not None and "<svg" in svg and "Tittel" in svg
    assert _column([None, None, None], zero_is_data=True) is None


def test_values_are_drawn_with_accessible_title_and_description():
    svg = _column([1.5, 3.0, None])
    assert "<title" in svg and "Beskrivelse" in svg and "3,0" in svg


def test_bar_chart_empty_and_filled():
    common = {
        "chart_id": "b",
        "title": "Saker",
        "desc": "d",
        "labels": ["A", "B"],
        "x_label": "x",
        "y_label": "y",
        "fmt": str,
    }
    assert bar_chart(values=[0, 0], **common) is None
    assert "<svg" in bar_chart(values=[2, 0], **common)


def test_labels_titles_and_values_are_escaped_in_both_charts():
    """The SVG is a template: a label, a title or a formatted value holding markup is text."""
    script = '<script>alert("x")</script>'
    common = {
        "chart_id": "c",
        "title": script,
        "desc": script,
        "labels": [script, "B & C"],
        "values": [2, 1],
        "x_label": script,
        "y_label": script,
        "fmt": lambda v: f"{v} <b>",
    }
    for svg in (column_chart(**common), bar_chart(**common)):
        assert "<script>" not in svg and "<b>" not in svg
        assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in svg
        assert "B &amp; C" in svg and "2 &lt;b&gt;" in svg
        assert svg.startswith('<svg class="chart chart-wide" id="c"') and svg.endswith("</svg>")
