"""Finding each student's submission in what an instructor has: files, folders, LMS export zips.

Everything is first read into memory as entries (a relative path and, for the files that matter, the bytes):
zips are never extracted to disk, so a hostile entry name can at worst be skipped, and is reported. Then one
layout parser (Canvas, Moodle, Blackboard, Gradescope, GitHub Classroom, or plain folders; see
../shared/docs/lms-exports.md) maps entries to students, and `resolve` keeps each student's latest attempt,
lists the older ones, and reports two different candidate files instead of guessing between them.
"""

from __future__ import annotations

import fnmatch
import hashlib
import io
import os
import re
import stat
import struct
import zipfile
import zlib
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from grader import inert

SUBMISSION_SUFFIXES = (".py", ".ipynb")
READ_SUFFIXES = SUBMISSION_SUFFIXES + (".txt", ".yml", ".yaml", ".zip")  # what a parser may need to open
# what reading one archive or entry can raise: it costs that entry (and its student), never the class
UNREADABLE = (zipfile.BadZipFile, OSError, RuntimeError, EOFError, NotImplementedError, ValueError, zlib.error)
JUNK_PARTS = {"__MACOSX", ".DS_Store", ".ipynb_checkpoints", "__pycache__", ".github", ".vscode", ".idea"}


class InputError(Exception):
    """An input cannot be used at all (missing, unreadable, a zip bomb). CLI exit status 2."""


@dataclass(frozen=True)
class Caps:
    """Limits on what an input may make the grader read: zip bombs and runaway folders stop here."""

    entries: int = 20_000
    file_bytes: int = 64 * 2**20  # the largest submission the grader accepts (a notebook with its plots)
    total_bytes: int = 1 * 2**30
    ratio: int = 200  # uncompressed/compressed above this (and over 1 MB) is a bomb, not a program
    depth: int = 2  # nested archives


@dataclass
class Entry:
    path: str  # posix, relative to the input's root
    data: bytes | None  # None: not needed by any parser (a PDF, an image), or a marker like a clone's .git
    origin: str  # what an instructor recognises: "export.zip:bob_12_34_hw.py"
    skipped: str | None = None  # why its bytes were not read (a symlink, over a cap): its student still shows up

    @property
    def label(self) -> str:
        return f"{PurePosixPath(self.path).name} (not read: {self.skipped})" if self.skipped else self.path


@dataclass
class Candidate:
    student: str
    file: str  # origin of the file
    name: str  # the file name the student gave it
    data: bytes
    source: str
    display_name: str | None = None
    attempt: str = ""  # larger is newer (Blackboard timestamps, Gradescope created_at); "" when unknown
    order: tuple = ()  # within one attempt, larger is a newer upload (Canvas file id, then its -N suffix)


@dataclass
class Student:
    id: str
    source: str
    name: str | None = None
    file: str | None = None  # origin of the file that is graded
    filename: str | None = None
    data: bytes | None = None
    older: list[str] = field(default_factory=list)  # attempts found and not graded
    problem: str | None = None  # why nothing is graded: "ambiguous: ..." / "no .py or .ipynb file ..."

    @property
    def sha256(self) -> str | None:
        return hashlib.sha256(self.data).hexdigest() if self.data is not None else None


@dataclass
class Discovery:
    students: list[Student]
    warnings: list[str]


# ---------------------------------------------------------------------------------------------- reading
def decode_name(info: zipfile.ZipInfo) -> str:
    """Entry names in any encoding: UTF-8 when flagged; else strict UTF-8 (Info-ZIP, macOS), else cp437."""
    if info.flag_bits & 0x800:
        return info.filename
    raw = info.filename.encode("cp437")  # zipfile decoded unflagged names as cp437, which round-trips
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return info.filename


def _open_zip(fp) -> zipfile.ZipFile:
    try:
        return zipfile.ZipFile(fp)
    except UnicodeDecodeError:  # one name flagged UTF-8 that is not stops zipfile reading any: unflag those
        fp.seek(0)
        return zipfile.ZipFile(_Unflagged(fp))


class _Unflagged(io.RawIOBase):
    """A zip as zipfile reads it, except that each entry whose name is flagged UTF-8 but is not loses the
    flag (in the central directory, and in its local header when zipfile opens it), so that its name reads
    as cp437 (decode_name then keeps those bytes visible) instead of the whole archive failing to open."""

    CENTRAL, LOCAL, UTF8 = b"PK\x01\x02", b"PK\x03\x04", 0x800

    def __init__(self, fp):
        super().__init__()
        self.fp, self.unflagged = fp, set()  # offsets of the local headers to unflag

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def seek(self, pos: int, whence: int = 0) -> int:
        return self.fp.seek(pos, whence)

    def tell(self) -> int:
        return self.fp.tell()

    def read(self, n: int = -1) -> bytes:
        at = self.fp.tell()
        data = self.fp.read(n)
        if data[:4] == self.CENTRAL:  # zipfile reads the whole central directory at once
            return self._central(bytearray(data))
        if data[:4] == self.LOCAL and at in self.unflagged:
            return self._clear(bytearray(data), 6)
        return data

    def _central(self, data: bytearray) -> bytes:
        pos = 0
        while data[pos:pos + 4] == self.CENTRAL and pos + 46 <= len(data):
            flags, = struct.unpack_from("<H", data, pos + 8)
            n, m, k = struct.unpack_from("<HHH", data, pos + 28)
            try:
                bytes(data[pos + 46:pos + 46 + n]).decode("utf-8")
            except UnicodeDecodeError:
                if flags & self.UTF8:
                    self._clear(data, pos + 8)
                    self.unflagged.add(struct.unpack_from("<I", data, pos + 42)[0])
            pos += 46 + n + m + k
        return bytes(data)

    def _clear(self, data: bytearray, at: int) -> bytes:
        flags, = struct.unpack_from("<H", data, at)
        struct.pack_into("<H", data, at, flags & ~self.UTF8)
        return bytes(data)


def unsafe(name: str) -> str | None:
    """Why an entry name must not be used, or None. Backslashes count as separators (Windows zips)."""
    posix = name.replace("\\", "/")
    if posix.startswith("/") or re.match(r"^[A-Za-z]:", posix):
        return "absolute path"
    if ".." in posix.split("/"):
        return "path traversal ('..')"
    if "\x00" in posix:
        return "NUL in name"
    return None


def _clean(name: str) -> str:
    return "/".join(p for p in name.replace("\\", "/").split("/") if p not in ("", "."))


def _is_junk(path: str) -> bool:
    parts = path.split("/")
    return any(p in JUNK_PARTS or p.startswith("._") for p in parts) or path.endswith(".pyc")


def _wanted(path: str) -> bool:
    return path.lower().endswith(READ_SUFFIXES)


class _Reader:
    """Reads zips and folders into entries, counting bytes against the caps across one whole input."""

    def __init__(self, caps: Caps, warnings: list[str]):
        self.caps, self.warnings, self.total = caps, warnings, 0

    def _take(self, n: int, origin: str) -> None:
        self.total += n
        if self.total > self.caps.total_bytes:
            raise InputError(f"{origin}: more than {self.caps.total_bytes >> 20} MB of files to read; "
                             "refusing (a zip bomb?)")

    def zip(self, source, origin: str, depth: int = 0) -> list[Entry]:
        fp = io.BytesIO(source) if isinstance(source, bytes) else None
        try:
            fp = fp or open(source, "rb")
            zf = _open_zip(fp)
        except UNREADABLE as exc:
            if fp is not None:
                fp.close()
            raise InputError(f"{origin}: not a readable zip archive ({exc})") from None
        entries: list[Entry] = []
        with fp, zf:
            infos = zf.infolist()
            if len(infos) > self.caps.entries:
                raise InputError(f"{origin}: {len(infos):,} entries, over the cap of {self.caps.entries:,}")
            clones: set[str] = set()
            for info in infos:
                name = decode_name(info)
                where = f"{origin}:{name}"
                if info.is_dir():
                    continue
                why = unsafe(name)
                if why:
                    self.warnings.append(f"skipped {where}: {why}")
                    continue
                path = _clean(name)
                if (info.external_attr >> 16) & 0o170000 == 0o120000:
                    entries.append(self._skip(path, where, "a symbolic link (never followed)"))
                    continue
                if "/.git/" in f"/{path}":
                    clones.add(path.split("/.git/")[0] if not path.startswith(".git/") else "")
                    continue
                if _is_junk(path) or not _wanted(path):
                    entries.append(Entry(path, None, where))
                    continue
                if info.file_size > self.caps.file_bytes:
                    entries.append(self._skip(path, where, f"{info.file_size >> 20} MB, over the "
                                                           f"{self.caps.file_bytes >> 20} MB cap"))
                    continue
                if info.file_size > 2**20 and info.file_size > self.caps.ratio * max(1, info.compress_size):
                    entries.append(self._skip(path, where, f"compressed {info.file_size // max(1, info.compress_size)}"
                                                           ":1, the ratio of a zip bomb"))
                    continue
                data = self._read_capped(zf, info, where)
                if isinstance(data, str):
                    entries.append(self._skip(path, where, data))
                    continue
                if path.lower().endswith(".zip"):
                    if depth >= self.caps.depth:
                        self.warnings.append(f"skipped {where}: archives nested deeper than {self.caps.depth}")
                        continue
                    entries += self._nested(data, path, where, depth + 1)
                    continue
                entries.append(Entry(path, data, where))
            entries += [Entry(f"{c}/.git" if c else ".git", None, f"{origin}:{c}/.git") for c in sorted(clones)]
        return entries

    def _nested(self, data: bytes, path: str, where: str, depth: int) -> list[Entry]:
        """A zip inside an input is one student's upload: if it cannot be read, it alone is refused (its
        student's row says why), and the bytes it was charged are given back to the class's budget."""
        before = self.total
        try:
            return [Entry(f"{path}/{e.path}", e.data, e.origin, e.skipped) for e in self.zip(data, where, depth)]
        except InputError as exc:
            self.total = before
            return [self._skip(path, where, str(exc).removeprefix(f"{where}: "))]

    def _skip(self, path: str, where: str, why: str) -> Entry:
        self.warnings.append(f"skipped {where}: {why}")
        return Entry(path, None, where, skipped=why)

    def _read_capped(self, zf: zipfile.ZipFile, info: zipfile.ZipInfo, where: str) -> bytes | str:
        """Read at most the cap, whatever the header claims (headers of bombs lie). A str says why not."""
        chunks, n = [], 0
        try:
            with zf.open(info) as fh:
                while chunk := fh.read(1 << 20):
                    n += len(chunk)
                    self._take(len(chunk), where)
                    if n > self.caps.file_bytes:
                        return f"over the {self.caps.file_bytes >> 20} MB cap"
                    chunks.append(chunk)
        except UNREADABLE as exc:
            return f"unreadable ({exc})"
        return b"".join(chunks)

    def folder(self, root: Path, origin: str) -> list[Entry]:
        entries: list[Entry] = []
        origin = inert.valid(origin)
        for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
            rel_dir = inert.valid(Path(dirpath).relative_to(root).as_posix())  # names on disk are bytes
            rel_dir = "" if rel_dir == "." else rel_dir
            if ".git" in dirnames:
                entries.append(Entry(f"{rel_dir}/.git".lstrip("/"), None, f"{origin}/{rel_dir}/.git"))
            for d in list(dirnames):
                if d == ".git" or d in JUNK_PARTS or os.path.islink(os.path.join(dirpath, d)):
                    if os.path.islink(os.path.join(dirpath, d)):
                        self.warnings.append(f"skipped {origin}/{rel_dir}/{inert.valid(d)}: a symbolic link "
                                             "(never followed)")
                    dirnames.remove(d)
            dirnames.sort()
            for fname in sorted(filenames):
                path = f"{rel_dir}/{inert.valid(fname)}".lstrip("/")
                full = os.path.join(dirpath, fname)
                where = f"{origin}/{path}"
                if len(entries) > self.caps.entries:
                    raise InputError(f"{origin}: more than {self.caps.entries:,} files, over the cap")
                if os.path.islink(full):
                    entries.append(self._skip(path, where, "a symbolic link (never followed)"))
                    continue
                if _is_junk(path) or not _wanted(path):
                    entries.append(Entry(path, None, where))
                    continue
                data = self.file(Path(full), where)
                if isinstance(data, str):
                    entries.append(self._skip(path, where, data))
                    continue
                if fname.lower().endswith(".zip"):
                    entries += self._nested(data, path, where, 1)
                else:
                    entries.append(Entry(path, data, where))
        return entries

    def file(self, path: Path, where: str) -> bytes | str:
        """The file's bytes, or why not: that costs this file (and its student) only. A named pipe or a
        device is never opened: reading one could block the whole class."""
        try:
            st = path.stat()
            if not stat.S_ISREG(st.st_mode):
                return "not a regular file"
            if st.st_size > self.caps.file_bytes:
                return f"{st.st_size >> 20} MB, over the {self.caps.file_bytes >> 20} MB cap"
            self._take(st.st_size, where)
            return path.read_bytes()
        except OSError as exc:
            return f"unreadable ({exc.strerror or exc})"


# ---------------------------------------------------------------------------------------------- layouts
CANVAS_RESUBMIT = re.compile(r"^(?P<stem>.*?)-(?P<n>\d+)(?P<ext>\.[^.]+)$")
MOODLE = re.compile(r"^(?P<name>.+?)_(?P<pid>\d+)_assignsubmission_(?P<plugin>[a-z]+)(?:_(?P<flat>.+))?$")
BB_STAMP = r"_attempt_(?P<ts>\d{4}(?:-\d\d){5})"
BB_RECEIPT = re.compile(r"^(?P<prefix>.+" + BB_STAMP + r")\.txt$")
BB_FILE = re.compile(r"^(?P<assignment>.+?)_(?P<user>[^_]+)" + BB_STAMP + r"(?:_(?P<orig>.+))?$")


def _digits(token: str) -> bool:
    """Canvas's ids are ASCII digits; str.isdigit() also takes '²', which int() refuses."""
    return token.isascii() and token.isdigit()


def parse_canvas_name(name: str) -> dict | None:
    """`<name>_[LATE_]<userid>_<fileid>_<file>`, anchored on the first two all-digit tokens, or `anon_<x>`."""
    toks = name.split("_")
    if len(toks) >= 4 and toks[0] == "anon":
        i, late = 2, False
        if toks[i].lower() == "late":
            i, late = i + 1, True
        if i + 1 < len(toks) and _digits(toks[i]):
            return {"id": f"anon_{toks[1]}", "name": None, "late": late, "fileid": int(toks[i]),
                    "file": "_".join(toks[i + 1:])}
        return None
    for i in range(1, len(toks) - 2):
        if _digits(toks[i]) and _digits(toks[i + 1]):
            who, late = toks[:i], False
            if who and who[-1].lower() == "late":
                who, late = who[:-1], True
            rest = "_".join(toks[i + 2:])
            if rest:
                return {"id": toks[i], "name": "_".join(who) or None, "late": late, "fileid": int(toks[i + 1]),
                        "file": rest}
    return None


def _top(path: str) -> str:
    return path.split("/", 1)[0]


def _is_submission(e: Entry) -> bool:
    return e.data is not None and e.path.lower().endswith(SUBMISSION_SUFFIXES) and not _is_junk(e.path)


def _submission_files(entries: list[Entry]) -> list[Entry]:
    return [e for e in entries if _is_submission(e)]


class _Found:
    """What a layout parser found: candidates, and the students seen with nothing gradable."""

    def __init__(self, source: str):
        self.source = source
        self.candidates: list[Candidate] = []
        self.seen: dict[str, tuple[str | None, list[str]]] = {}  # id -> (name, every file seen)

    def saw(self, student: str, name: str | None, files: list[str]) -> None:
        old_name, old_files = self.seen.get(student, (None, []))
        self.seen[student] = (old_name or name, old_files + files)

    def add(self, student: str, entry: Entry, filename: str, name: str | None = None, **kw) -> None:
        self.saw(student, name, [])
        self.candidates.append(Candidate(student, entry.origin, filename, entry.data, self.source, name, **kw))


def canvas(entries: list[Entry]) -> _Found:
    found = _Found("canvas")
    for e in entries:
        top = _top(e.path)
        meta = parse_canvas_name(top)
        if not meta:
            continue
        found.saw(meta["id"], meta["name"], [e.label])
        if not _is_submission(e):
            continue
        inner = e.path[len(top) + 1:] if "/" in e.path else meta["file"]
        filename = PurePosixPath(inner).name
        m = CANVAS_RESUBMIT.match(filename)
        order = (meta["fileid"], int(m["n"]) if m else 0)
        found.add(meta["id"], e, filename, meta["name"], order=order)
    return found


def moodle(entries: list[Entry]) -> _Found:
    found = _Found("moodle")
    for e in entries:
        top = _top(e.path)
        m = MOODLE.match(top)
        if not m:
            continue
        found.saw(m["pid"], m["name"], [e.label] if m["plugin"] == "file" else [])
        if m["plugin"] == "file" and _is_submission(e):
            filename = PurePosixPath(e.path).name if "/" in e.path else (m["flat"] or top)
            found.add(m["pid"], e, filename, m["name"])
    return found


def parse_receipt(text: str, prefix: str) -> dict:
    """A Blackboard receipt `PREFIX.txt`: `Name: Full Name (username)` on its first line, and the
    `Filename:` of each file of this attempt. The student writes the receipt's comments and submission text,
    so only these structured fields count: the Name line only where the receipt's own name (Blackboard's)
    carries that username, and only file names of this attempt (`PREFIX_...`), never another's."""
    out: dict = {"files": []}
    first = next((line for line in text.splitlines() if line.strip()), "")
    if (m := re.match(r"^\ufeff?Name:\s*(.*?)\s*\(([^()]+)\)\s*$", first)) and \
            re.fullmatch(r".+_" + re.escape(m[2]) + BB_STAMP, prefix):
        out["name"], out["user"] = m[1], m[2]
    original = None
    for line in text.splitlines():
        key, _, value = line.strip().partition(":")
        if key == "Original filename":
            original = value.strip()
        elif key == "Filename":
            if value.strip().startswith(prefix + "_"):
                out["files"].append((value.strip(), original))
            original = None
    return out


def blackboard(entries: list[Entry]) -> _Found:
    found = _Found("blackboard")
    by_path = {e.path: e for e in entries}
    claimed: set[str] = set()
    for e in entries:
        m = BB_RECEIPT.match(e.path)
        if not m or e.data is None:
            continue
        receipt = parse_receipt(e.data.decode("utf-8", "replace"), m["prefix"])
        user = receipt.get("user") or (BB_FILE.match(m["prefix"]) or {"user": None})["user"]
        if not user:
            continue
        claimed.add(e.path)
        names = []
        for fname, original in receipt["files"]:
            entry = by_path.get(fname)
            names.append(fname)
            if entry is None:
                continue
            claimed.add(fname)
            if _is_submission(entry):
                found.add(user, entry, original or fname, receipt.get("name"), attempt=m["ts"])
        found.saw(user, receipt.get("name"), names)
    for e in entries:  # files without a receipt: the name alone (a username with no '_')
        if e.path in claimed or "/" in e.path or (m := BB_FILE.match(e.path)) is None or e.path.endswith(".txt"):
            continue
        found.saw(m["user"], None, [e.label])
        if _is_submission(e):
            found.add(m["user"], e, m["orig"] or e.path, attempt=m["ts"])
    return found


def gradescope(entries: list[Entry]) -> _Found:
    import yaml

    found = _Found("gradescope")
    meta_entry = next(e for e in entries if e.path == "submission_metadata.yml")
    try:
        meta = yaml.load(meta_entry.data, Loader=_RubyTolerantLoader) or {}
    except yaml.YAMLError as exc:
        raise InputError(f"{meta_entry.origin}: cannot read it ({exc})") from None
    files = _submission_files(entries)
    for key, info in sorted(meta.items()):
        info = _strip_colons(info) if isinstance(info, dict) else {}
        mine = [e for e in files if _top(e.path) == str(key)]
        for person in info.get("submitters") or []:
            person = _strip_colons(person)
            sid = str(person.get("sid") or person.get("email") or person.get("name") or key)
            found.saw(sid, person.get("name"), [e.label for e in entries if _top(e.path) == str(key)])
            for e in mine:
                found.add(sid, e, PurePosixPath(e.path).name, person.get("name"),
                          attempt=str(info.get("created_at") or ""))
    return found


def github_classroom(entries: list[Entry], root_name: str) -> _Found:
    found = _Found("github-classroom")
    clones = sorted({e.path[: -len("/.git")] for e in entries if e.path.endswith("/.git") and e.path.count("/") == 1})
    prefix = root_name[: -len("submissions")] if root_name.endswith("-submissions") else os.path.commonprefix(clones)
    if not root_name.endswith("-submissions"):
        prefix = prefix[: prefix.rfind("-") + 1] if len(clones) > 1 else ""
    for clone in clones:
        user = clone[len(prefix):] if clone.startswith(prefix) and len(clone) > len(prefix) else clone
        inside = [e for e in entries if e.path.startswith(clone + "/")]
        found.saw(user, None, [e.label for e in inside])
        for e in _submission_files(inside):
            found.add(user, e, PurePosixPath(e.path).name)
    return found


def folders(entries: list[Entry], warnings: list[str]) -> _Found:
    """No LMS layout: a file at the top is one student (its stem); a folder at the top is one student."""
    found = _Found("folder")
    for e in entries:
        top = _top(e.path)
        student = top[:-4] if top.lower().endswith(".zip") and "/" in e.path else top
        if "/" not in e.path:
            student = PurePosixPath(top).stem if e.path.lower().endswith(SUBMISSION_SUFFIXES) or e.skipped else None
            if student is None:  # a stray README or PDF beside the students' files
                warnings.append(f"skipped {e.origin}: not a .py or .ipynb file")
                continue
        found.saw(student, None, [e.label])
        if _is_submission(e):
            found.add(student, e, PurePosixPath(e.path).name)
    return found


def detect(entries: list[Entry], root_name: str, warnings: list[str]) -> _Found:
    entries = [e for e in entries if not _is_junk(e.path) or e.path.endswith("/.git")]
    tops = {_top(e.path) for e in entries}
    if any(e.path == "submission_metadata.yml" for e in entries):
        return gradescope(entries)
    if any(MOODLE.match(t) for t in tops):
        return moodle(entries)
    if any(BB_RECEIPT.match(e.path) for e in entries):
        return blackboard(entries)
    at_top = [t for t in tops if parse_canvas_name(t)]
    if at_top and len(at_top) * 2 >= len(tops):
        return canvas(entries)
    if any(e.path.endswith("/.git") and e.path.count("/") == 1 for e in entries):
        return github_classroom(entries, root_name)
    if len(tops) == 1 and all("/" in e.path for e in entries) and not next(iter(tops)).lower().endswith(".zip"):
        only = next(iter(tops))  # an export wrapped in one folder: look inside it
        return detect([Entry(e.path[len(only) + 1:], e.data, e.origin) for e in entries], only, warnings)
    return folders(entries, warnings)


class _RubyTolerantLoader:  # built lazily: PyYAML is only imported for Gradescope exports
    def __new__(cls, stream):
        import yaml

        class Loader(yaml.SafeLoader):
            pass

        def any_tag(loader, suffix, node):  # Gradescope's Ruby tags (!ruby/hash:...) read as plain data
            if isinstance(node, yaml.MappingNode):
                return loader.construct_mapping(node, deep=True)
            if isinstance(node, yaml.SequenceNode):
                return loader.construct_sequence(node, deep=True)
            return loader.construct_scalar(node)

        Loader.add_multi_constructor("!", any_tag)
        return Loader(stream)


def _strip_colons(d: dict) -> dict:
    return {str(k).lstrip(":"): v for k, v in d.items()}


# ---------------------------------------------------------------------------------------------- resolving
def _base(name: str) -> str:
    """hw-1.py and hw.py are one file uploaded twice (Canvas appends -N on a clash)."""
    m = CANVAS_RESUBMIT.match(name)
    return (m["stem"] + m["ext"] if m else name).lower()


def resolve(student: str, source: str, name: str | None, seen_files: list[str], candidates: list[Candidate],
            pattern: str | None = None) -> Student:
    out = Student(id=student, source=source, name=name)
    if pattern:
        candidates = [c for c in candidates if fnmatch.fnmatch(c.name, pattern)]
    refused = sorted({f for f in seen_files if "(not read:" in f})
    if not candidates and refused:
        out.problem = f"{'its file was' if len(refused) == 1 else 'files were'} refused: {'; '.join(refused)}"
        return out
    if not candidates:
        others = sorted({PurePosixPath(f).name for f in seen_files})
        found = f" (found: {', '.join(others[:5])}{', …' if len(others) > 5 else ''})" if others else ""
        wanted = f"matching --pattern {pattern!r}" if pattern else ".py or .ipynb file"
        out.problem = f"no {wanted}{found}"
        return out
    latest = max(c.attempt for c in candidates)
    older = [c for c in candidates if c.attempt != latest]
    current = [c for c in candidates if c.attempt == latest]
    if len({_base(c.name) for c in current}) > 1 and len({hashlib.sha256(c.data).digest() for c in current}) > 1:
        out.problem = (f"ambiguous: {len(current)} candidate files ({', '.join(sorted(c.file for c in current))}); "
                       "keep one, or choose with --pattern")
        out.older = sorted(c.file for c in older)
        return out
    chosen = max(current, key=lambda c: c.order)
    out.file, out.filename, out.data = chosen.file, chosen.name, chosen.data
    out.name = name or chosen.display_name
    out.older = sorted(c.file for c in older + [c for c in current if c is not chosen])
    return out


def discover(inputs: list[Path], pattern: str | None = None, caps: Caps | None = None) -> Discovery:
    """Every student found in the inputs, in a stable order, and what was skipped on the way."""
    caps = caps or Caps()
    warnings: list[str] = []
    reader = _Reader(caps, warnings)
    by_student: dict[str, list[Candidate]] = defaultdict(list)
    meta: dict[str, tuple[str, str | None, list[str]]] = {}
    for path in inputs:
        path = Path(path)
        if not path.exists():
            raise InputError(f"{path}: no such file or folder")
        if path.is_dir():
            found = detect(reader.folder(path, str(path)), inert.valid(path.name), warnings)
        elif path.suffix.lower() == ".zip":
            found = detect(reader.zip(path, inert.valid(path)), inert.valid(path.stem), warnings)
        else:  # a file named on the command line is a submission, whatever it holds: the grader says why not
            where, name, stem = (inert.valid(p) for p in (path, path.name, path.stem))  # names on disk are bytes
            data = reader.file(path, where)
            found = _Found("file")
            sid = stem if stem not in meta else inert.valid(path.with_suffix("").as_posix())  # two students' hw.py
            if isinstance(data, bytes):
                found.add(sid, Entry(name, data, where), name)
            else:  # the student is still listed, with why their file was not read
                found.saw(sid, None, [reader._skip(name, where, data).label])
        for c in found.candidates:
            by_student[c.student].append(c)
        for sid, (name, files) in found.seen.items():
            source, old_name, old_files = meta.get(sid, (found.source, None, []))
            meta[sid] = (source, old_name or name, old_files + files)
    students = [resolve(sid, meta[sid][0], meta[sid][1], meta[sid][2], by_student.get(sid, []), pattern)
                for sid in sorted(meta)]
    return Discovery(students, warnings)


def one_student(folder: Path, student_id: str, source: str, pattern: str | None = None) -> Student:
    """Every file in FOLDER belongs to one student (Gradescope's /autograder/submission, PrairieLearn's
    /grade/student): pick the submission among them, or say why there is none."""
    warnings: list[str] = []
    entries = _Reader(Caps(), warnings).folder(Path(folder), str(folder)) if Path(folder).is_dir() else []
    found = _Found(source)
    for e in _submission_files(entries):
        found.add(student_id, e, PurePosixPath(e.path).name)
    return resolve(student_id, source, None, [e.path for e in entries], found.candidates, pattern)
