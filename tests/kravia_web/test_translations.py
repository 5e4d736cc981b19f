"""The English catalogue is complete, keeps every placeholder and is compiled as committed."""

import re
from pathlib import Path

import polib
import pytest
from django.utils import translation

ROOT = Path(__file__).resolve().parents[2]
PO_PATH = ROOT / "locale" / "en" / "LC_MESSAGES" / "django.po"
MO_PATH = PO_PATH.with_suffix(".mo")

# %(name)s / %(count)d, and str.format fields such as {name} or {0}.
PLACEHOLDER = re.compile(r"%\(\w+\)[sdif]|\{\w*\}")


@pytest.fixture(scope="module")
def po():
    return polib.pofile(str(PO_PATH))


def _msgstrs(entry):
    if entry.msgid_plural:
        return [entry.msgstr_plural[i] for i in sorted(entry.msgstr_plural)]
    return [entry.msgstr]


def _label(entry):
    return f"{entry.msgid!r} ({', '.join(f'{f}:{n}' for f, n in entry.occurrences[:2])})"


def test_every_entry_is_translated_and_none_is_fuzzy_or_obsolete(po):
    assert len(po) > 0
    untranslated = [_label(e) for e in po if not e.obsolete and not all(_msgstrs(e))]
    fuzzy = [_label(e) for e in po if "fuzzy" in e.flags]
    obsolete = [_label(e) for e in po if e.obsolete]
    assert untranslated == []
    assert fuzzy == []
    assert obsolete == []


def test_plural_entries_have_every_form(po):
    nplurals = int(re.search(r"nplurals=(\d+)", po.metadata["Plural-Forms"]).group(1))
    for entry in po:
        if entry.msgid_plural:
            assert sorted(entry.msgstr_plural) == list(range(nplurals)), _label(entry)


def test_placeholders_are_kept(po):
    problems = []
    for entry in po:
        if entry.obsolete:
            continue
        wanted = set(PLACEHOLDER.findall(entry.msgid))
        if entry.msgid_plural:
            wanted |= set(PLACEHOLDER.findall(entry.msgid_plural))
        for msgstr in _msgstrs(entry):
            found = set(PLACEHOLDER.findall(msgstr))
            # A placeholder missing from the translation loses data; an extra named one
            # raises KeyError when the string is formatted.
            if not wanted <= found or {p for p in found - wanted if p.startswith("%(")}:
                problems.append(f"{_label(entry)}: {sorted(wanted)} vs {sorted(found)}")
    assert problems == []


def test_committed_mo_matches_po(po):
    assert MO_PATH.exists(), "run: manage.py compilemessages -l en"
    mo = polib.mofile(str(MO_PATH))

    def catalogue(entries):
        result = {}
        for entry in entries:
            if entry.obsolete or "fuzzy" in entry.flags:
                continue
            key = (entry.msgctxt, entry.msgid, entry.msgid_plural or None)
            result[key] = tuple(_msgstrs(entry))
        return result

    from_po, from_mo = catalogue(po), catalogue(mo)
    stale = {k: (v, from_mo.get(k)) for k, v in from_po.items() if from_mo.get(k) != v}
    extra = sorted(k[1] for k in from_mo.keys() - from_po.keys())
    assert stale == {}, "django.mo is out of date; run compilemessages"
    assert extra == [], "django.mo has entries the .po no longer has; run compilemessages"


def test_english_is_served_at_run_time():
    from integrations.models import PowerOfficeConnection

    with translation.override("en"):
        assert translation.gettext("Legg til kreditor") == "Add creditor"
        assert translation.gettext("Gi tilgang") == "Grant access"
        assert translation.gettext("Koble fra") == "Disconnect"
        assert str(PowerOfficeConnection._meta.verbose_name) == "PowerOffice Go connection"
        assert (
            translation.gettext("%(name)s er ikke koblet til PowerOffice Go.") % {"name": "Acme AS"}
            == "Acme AS is not connected to PowerOffice Go."
        )
    with translation.override("nb"):
        assert translation.gettext("Gi tilgang") == "Gi tilgang"
