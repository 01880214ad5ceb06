"""Every user-facing string is translatable, and every catalogue is complete."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parent.parent
TEMPLATES = ROOT / "portal" / "templates"
TRANSLATIONS = ROOT / "portal" / "translations"
LOCALES = ("pt_BR", "en")

_USER_ATTRS = {"placeholder", "title", "aria-label", "alt", "label"}
# Text that is the same in every language: the product name, symbols, numbers, code samples.
_NEUTRAL = re.compile(r"^[\W\d_]*(Atende|HTTP)?[\W\d_]*$")
_LETTER = re.compile(r"[A-Za-zÀ-ÿ]")


class _TextCollector(HTMLParser):
    """Collects human-readable text and user-facing attributes of a template whose Jinja parts
    were replaced by a marker, skipping code samples and scripts."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[str] = []
        self._skip = 0

    def _check(self, text: str) -> None:
        text = text.replace(_MARK, " ").strip()
        if text and _LETTER.search(text) and not _NEUTRAL.match(text):
            self.found.append(text)

    def handle_starttag(self, tag, attrs):
        if tag in ("code", "pre", "script", "style"):
            self._skip += 1
        for name, value in attrs:
            if name in _USER_ATTRS and value:
                self._check(value)

    def handle_endtag(self, tag):
        if tag in ("code", "pre", "script", "style") and self._skip:
            self._skip -= 1

    def handle_data(self, data):
        if not self._skip:
            self._check(data)


_MARK = "\x01"


def _unmarked(source: str) -> list[str]:
    source = re.sub(r"{#.*?#}", "", source, flags=re.S)
    source = re.sub(r"{{.*?}}|{%.*?%}", _MARK, source, flags=re.S)
    collector = _TextCollector()
    collector.feed(source)
    return collector.found


@pytest.mark.parametrize("template", sorted(TEMPLATES.rglob("*.html")), ids=lambda p: str(p.relative_to(TEMPLATES)))
def test_template_has_no_unmarked_user_facing_text(template):
    assert _unmarked(template.read_text(encoding="utf-8")) == []


def _source_msgids() -> set[str]:
    method_map = [("portal/**.py", "python"), ("portal/templates/**.html", "jinja2")]
    keywords = {"_": None, "gettext": None, "ngettext": (1, 2), "lazy_gettext": None, "_l": None,
                "lazy_ngettext": (1, 2), "pgettext": ((1, "c"), 2), "lazy_pgettext": ((1, "c"), 2),
                "_lp": ((1, "c"), 2)}
    ids = set()
    for _filename, _lineno, message, _comments, _context in extract_from_dir(
        str(ROOT), method_map=method_map, keywords=keywords, options_map={"portal/templates/**.html": {}}
    ):
        ids.add(message if isinstance(message, str) else message[0])
    return ids


@pytest.mark.parametrize("locale", LOCALES)
def test_catalogue_translates_every_source_string(locale):
    with open(TRANSLATIONS / locale / "LC_MESSAGES" / "messages.po", "rb") as f:
        catalogue = read_po(f)
    translated = {m.id if isinstance(m.id, str) else m.id[0]: m for m in catalogue if m.id}
    missing = sorted(_source_msgids() - set(translated))
    assert missing == [], f"{locale}: not in the catalogue (run scripts/translations update): {missing[:20]}"
    untranslated = sorted(
        k for k, m in translated.items() if m.fuzzy or not (m.string if isinstance(m.string, str) else all(m.string))
    )
    assert untranslated == [], f"{locale}: untranslated or fuzzy: {untranslated[:20]}"
    # A translation must keep the source's %(name)s placeholders, or rendering it fails.
    broken = [(m.id, [str(e) for e in errors]) for m, errors in catalogue.check()]
    assert broken == [], f"{locale}: placeholders differ from the source: {broken[:5]}"


def _entries(catalogue) -> dict:
    """msgid -> msgstr, a context written before the id and an EOT (as a .mo file keeps it)."""
    entries = {}
    for m in catalogue:
        if m.id:
            msgid = m.id if isinstance(m.id, str) else m.id[0]
            context = m.context.decode() if isinstance(m.context, bytes) else m.context  # read_mo gives bytes
            prefix = f"{context}\x04" if context else ""
            entries[prefix + msgid] = m.string if isinstance(m.string, str) else tuple(m.string)
    return entries


@pytest.mark.parametrize("locale", LOCALES)
def test_compiled_catalogue_matches_the_po_file(locale):
    folder = TRANSLATIONS / locale / "LC_MESSAGES"
    with open(folder / "messages.po", "rb") as f:
        po = _entries(read_po(f))
    with open(folder / "messages.mo", "rb") as f:
        mo = _entries(read_mo(f))
    assert po == mo, f"{locale}: messages.mo is stale (run scripts/translations compile)"
