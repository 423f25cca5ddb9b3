"""IDX files (MNIST's format), raw or gzipped. Standard library only: the host uses it too."""

from __future__ import annotations

import gzip
import struct
from pathlib import Path

# magic = 0x0000 | type code | number of dimensions; MNIST uses unsigned bytes (0x08)
UBYTE = 0x08


class IdxError(ValueError):
    pass


def _open(path: Path):
    path = Path(path)
    with open(path, "rb") as fh:
        gzipped = fh.read(2) == b"\x1f\x8b"
    return gzip.open(path, "rb") if gzipped else open(path, "rb")


def read_header(path: Path) -> tuple[int, ...]:
    """The dimensions stored in an IDX file's header (e.g. (60000, 28, 28))."""
    with _open(path) as fh:
        return _parse_header(fh.read(4 + 4 * 3), path)[0]


def _parse_header(head: bytes, path) -> tuple[tuple[int, ...], int]:
    if len(head) < 4:
        raise IdxError(f"{path}: too short to be an IDX file")
    zero, dtype, ndim = struct.unpack(">HBB", head[:4])
    if zero != 0 or dtype != UBYTE or not 1 <= ndim <= 3:
        raise IdxError(f"{path}: not an unsigned-byte IDX file (magic {head[:4].hex()})")
    if len(head) < 4 + 4 * ndim:
        raise IdxError(f"{path}: truncated header")
    dims = struct.unpack(">" + "I" * ndim, head[4 : 4 + 4 * ndim])
    return dims, 4 + 4 * ndim


def read(path: Path) -> tuple[tuple[int, ...], bytes]:
    """Dimensions and payload of an IDX file; raises IdxError if the payload size does not match."""
    with _open(path) as fh:
        blob = fh.read()
    dims, offset = _parse_header(blob, path)
    expected = 1
    for d in dims:
        expected *= d
    payload = blob[offset:]
    if len(payload) != expected:
        raise IdxError(f"{path}: header says {expected} bytes of data, file has {len(payload)}")
    return dims, payload


def header(dims: tuple[int, ...]) -> bytes:
    return struct.pack(">HBB", 0, UBYTE, len(dims)) + struct.pack(">" + "I" * len(dims), *dims)


def write(path: Path, dims: tuple[int, ...], payload: bytes, *, gzipped: bool = False) -> None:
    """Write an unsigned-byte IDX file (used to import data and to build tiny test fixtures)."""
    opener = gzip.open if gzipped else open
    with opener(path, "wb") as fh:
        fh.write(header(dims) + payload)
