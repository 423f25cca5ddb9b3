"""Where the grader's MNIST lives, and how it gets there.

Lookup order: --data-dir, then $GRADER_DATA_DIR, then the user cache ($XDG_CACHE_HOME/grader/mnist).
Inside a folder the four IDX files may sit at the top, in raw/ or in MNIST/raw/ (torchvision's layout),
raw or gzipped.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from grader.harness import idx

FILES = {
    "train_images": "train-images-idx3-ubyte",
    "train_labels": "train-labels-idx1-ubyte",
    "test_images": "t10k-images-idx3-ubyte",
    "test_labels": "t10k-labels-idx1-ubyte",
}
SHAPES = {"train_images": (60000, 28, 28), "train_labels": (60000,), "test_images": (10000, 28, 28),
          "test_labels": (10000,)}
# sha256 of the decompressed files (the published MNIST)
SHA256 = {
    "train_images": "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db",
    "train_labels": "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5",
    "test_images": "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
    "test_labels": "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2",
}
TRAIN = ("train_images", "train_labels")
TEST = ("test_images", "test_labels")


class DataMissing(Exception):
    """MNIST is not where the grader looks; the message says which command fixes it."""


def default_dir() -> Path:
    cache = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(cache) / "grader" / "mnist"


def resolve_dir(data_dir: Path | str | None = None) -> Path:
    if data_dir:
        return Path(data_dir).expanduser()
    if os.environ.get("GRADER_DATA_DIR"):
        return Path(os.environ["GRADER_DATA_DIR"]).expanduser()
    return default_dir()


def locate(folder: Path) -> dict[str, Path | None]:
    found: dict[str, Path | None] = {}
    for role, name in FILES.items():
        found[role] = None
        for sub in ("", "raw", "MNIST/raw"):
            for suffix in ("", ".gz"):
                candidate = folder / sub / (name + suffix)
                if candidate.is_file():
                    found[role] = candidate
                    break
            if found[role]:
                break
    return found


@dataclass
class DataStatus:
    folder: Path
    files: dict[str, Path | None]
    problems: list[str] = field(default_factory=list)
    verified_hashes: bool = False

    @property
    def ok(self) -> bool:
        return not self.problems


def status(folder: Path, *, hashes: bool = False) -> DataStatus:
    files = locate(folder)
    st = DataStatus(folder, files)
    for role, path in files.items():
        if path is None:
            st.problems.append(f"{FILES[role]} not found")
            continue
        try:
            if hashes:
                dims, payload = idx.read(path)
                digest = hashlib.sha256(idx.header(dims) + payload).hexdigest()
                if digest != SHA256[role]:
                    st.problems.append(f"{path.name}: sha256 {digest[:12]}… is not the published MNIST file")
            else:
                dims = idx.read_header(path)
        except (OSError, EOFError, idx.IdxError) as exc:
            st.problems.append(f"{path.name}: {exc}")
            continue
        if tuple(dims) != SHAPES[role]:
            st.problems.append(f"{path.name}: shape {tuple(dims)}, expected {SHAPES[role]}")
    st.verified_hashes = hashes and st.ok
    return st


def fix_command(folder: Path) -> str:
    return ("run `grader data download` (needs internet), or `grader data import DIR` with a folder holding the four "
            f"MNIST IDX files, or point --data-dir / GRADER_DATA_DIR at such a folder (looked in {folder})")


def require(folder: Path, roles=TRAIN + TEST) -> dict[str, Path]:
    st = status(folder)
    missing = [p for p in st.problems if any(FILES[r] in p for r in roles)]
    if missing:
        raise DataMissing("MNIST is not available: " + "; ".join(missing) + ".\nTo fix it, " + fix_command(folder))
    return {r: st.files[r] for r in roles}  # type: ignore[misc]


def import_from(source: Path, dest: Path) -> DataStatus:
    """Copy (decompressing) the four IDX files from `source` into `dest`, verifying them first."""
    st = status(source, hashes=True)
    if not st.ok:
        raise DataMissing(f"cannot import from {source}: " + "; ".join(st.problems))
    dest.mkdir(parents=True, exist_ok=True)
    for role, path in st.files.items():
        _write_raw(path, dest / FILES[role])
    return status(dest)


def _write_raw(source: Path, dest: Path) -> None:
    """`source` (raw or gzipped) decompressed into `dest`, renamed into place last: a reader running
    beside (another grader) never sees a half-written file."""
    tmp = dest.with_name(f"{dest.name}.{os.getpid()}.part")
    idx.write(tmp, *idx.read(source))
    tmp.replace(dest)


def download(dest: Path) -> DataStatus:
    """Fetch MNIST with torchvision, then import it. Its progress goes to stderr: stdout may carry a report."""
    from torchvision.datasets import MNIST

    with tempfile.TemporaryDirectory(prefix="grader-mnist-") as tmp:
        try:
            with contextlib.redirect_stdout(sys.stderr):  # torchvision prints "Downloading ..." to stdout
                for train in (True, False):
                    MNIST(root=tmp, train=train, download=True)
        except Exception as exc:  # torchvision raises RuntimeError/URLError/OSError depending on mirror
            raise DataMissing(f"could not download MNIST ({str(exc).strip()}).\nWithout internet, run `grader data "
                              "import DIR` with a folder holding the four MNIST IDX files (raw or .gz), or point "
                              "--data-dir / GRADER_DATA_DIR at such a folder") from exc
        return import_from(Path(tmp) / "MNIST" / "raw", dest)


def ensure(folder: Path, *, allow_download: bool, log=print) -> dict[str, Path]:
    """The data files, fetching them on first use when the machine is online and no folder was given."""
    try:
        files = require(folder)
    except DataMissing:
        if not allow_download:
            raise
        log(f"MNIST not found in {folder}; downloading it once (about 12 MB)…")
        download(folder)
        files = require(folder)
    return {role: decompressed(path) for role, path in files.items()}


def decompressed(path: Path) -> Path:
    """A gzipped IDX file's raw copy, made once in the user cache: every sandbox reads the training set,
    and gunzip costs each of them ~0.3 s. Keyed by the file's name, size and mtime; the .gz itself where
    the cache cannot be written."""
    if path.suffix != ".gz":
        return path
    st = path.stat()
    raw = default_dir().parent / "raw" / f"{path.stem}-{st.st_size}-{st.st_mtime_ns}"
    if raw.is_file():
        return raw
    try:
        raw.parent.mkdir(parents=True, exist_ok=True)
        _write_raw(path, raw)
        return raw
    except OSError:
        return path
