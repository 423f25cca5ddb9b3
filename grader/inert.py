"""Text that a student controls, made inert for each place the grader shows it.

Names, file names, receipts and a program's output reach the instructor's terminal, Markdown, CSV, XML,
HTML (Jinja2 autoescapes it; `plain` drops what a page cannot show) and file names. Each medium has one
function here, and every place that shows such text goes through it: one student's text may change what
their own row says, never what the rest of the screen, table or file does.
"""

from __future__ import annotations

import hashlib
import re

# CSI (colours, cursor moves, clear screen), OSC (window title, hyperlinks, clipboard) to BEL or ST, the
# string commands (DCS, SOS, PM, APC) to ST, character-set selection, and the other two-byte escapes
ESCAPE_SEQUENCE = re.compile(r"\x1b(?:\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(?:\x07|\x1b\\)?|[PX^_][^\x1b]*(?:\x1b\\)?"
                             r"|[ -/]+[0-~]|[@-Z\\-_])")
# C0 and C1 controls but \t \n \r; bidirectional overrides, which reorder what a terminal or viewer shows
CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
TERMINAL = re.compile(f"{CONTROL.pattern}|\r")
ONE_LINE = re.compile(f"{CONTROL.pattern}|[\t\n\r]")
MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]()<>#!|~&$])")
FORMULA_START = ("=", "+", "-", "@", "＝", "＋", "－", "＠", "\ufe62", "\ufe63")
NOT_XML = re.compile(r"[^\t\n\r\x20-\x7e\xa0-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
NOT_IN_FILE_NAME = re.compile(r"[^\w.@+-]")
FILE_NAME_BYTES = 255


def plain(text) -> str:
    """Escape sequences and control characters removed (tabs and line breaks kept): terminal output as a
    page or a report shows it."""
    return CONTROL.sub("", ESCAPE_SEQUENCE.sub("", valid(text))) if text is not None else ""


def valid(text) -> str:
    """Any str as one that encodes: a name read from disk carries a lone surrogate for each byte that was not
    UTF-8, shown here as `\\xNN` (so two such names stay apart)."""
    text = str(text)
    try:
        raw = text.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:  # a surrogate that stands for no byte (from JSON, say)
        raw = text.encode("utf-8", "surrogatepass")
    return raw.decode("utf-8", "backslashreplace")


def terminal(text, *, one_line: bool = False) -> str:
    """For a terminal: escape sequences removed, other control characters shown as `\\xNN` (and, for one
    line, line breaks and tabs too), so nothing can move the cursor, recolour, retitle, link or clear."""
    text = ESCAPE_SEQUENCE.sub("", valid(text))
    return (ONE_LINE if one_line else TERMINAL).sub(lambda m: m[0].encode("unicode_escape").decode(), text)


def markdown(text) -> str:
    """For one Markdown line or table cell: no markup, links, images, HTML or entities; pipes and line
    breaks cannot open a new cell or row."""
    flat = " ".join(valid(text).replace("\t", " ").splitlines())
    return MARKDOWN_SPECIAL.sub(r"\\\1", terminal(flat, one_line=True))


def csv_cell(value) -> str:
    """For a spreadsheet cell: text that a spreadsheet would run as a formula (whatever whitespace leads it)
    gets a leading apostrophe; control characters are shown, not kept."""
    text = terminal("" if value is None else value)
    return "'" + text if text.lstrip().startswith(FORMULA_START) else text


def xml(text) -> str:
    """For XML text and attributes: escape sequences removed, and characters XML 1.0 cannot hold (or
    discourages: C1) replaced with U+FFFD."""
    return NOT_XML.sub("\ufffd", ESCAPE_SEQUENCE.sub("", valid(text)))


def file_name(text: str, limit: int = FILE_NAME_BYTES) -> str:
    """A file name for TEXT: word characters, `.@+-` and no leading dot, at most LIMIT bytes (not characters).
    A name cut to fit ends in a hash of the whole text, so two names that differ only past the cut stay
    two files; its extension is kept."""
    slug = NOT_IN_FILE_NAME.sub("_", valid(text)).lstrip(".") or "_"
    if len(slug.encode()) <= limit:
        return slug
    stem, dot, ext = slug.rpartition(".")
    if not dot or not stem or len(ext.encode()) > 16:
        stem, ext = slug, ""
    tail = "-" + hashlib.sha256(valid(text).encode()).hexdigest()[:16] + (f".{ext}" if ext else "")
    return stem.encode()[:limit - len(tail.encode())].decode("utf-8", "ignore") + tail
