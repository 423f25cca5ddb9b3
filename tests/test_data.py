import gzip
import shutil
from pathlib import Path

import pytest
from tiny_mnist import write_tiny_mnist

from grader import data
from grader.harness import idx


def test_tiny_data_is_not_mnist(tmp_path):
    st = data.status(write_tiny_mnist(tmp_path / "d"))
    assert not st.ok and any("shape (400, 28, 28)" in p for p in st.problems)


def test_real_data_status_and_hashes(real_data):
    st = data.status(real_data, hashes=True)
    assert st.ok and st.verified_hashes


def test_import_decompresses_and_verifies(real_data, tmp_path):
    dest = tmp_path / "cache"
    st = data.import_from(real_data, dest)
    assert st.ok and (dest / "train-images-idx3-ubyte").stat().st_size == 47040016


def test_import_rejects_tampered_files(real_data, tmp_path):
    src = tmp_path / "src"
    shutil.copytree(real_data, src)
    f = next(src.glob("t10k-labels*"))
    dims, payload = idx.read(f)
    f.unlink()
    idx.write(src / "t10k-labels-idx1-ubyte", dims, bytes([(payload[0] + 1) % 10]) + payload[1:])
    with pytest.raises(data.DataMissing, match="not the published MNIST"):
        data.import_from(src, tmp_path / "dest")


def test_locate_finds_torchvision_layout_and_gz(tmp_path):
    raw = tmp_path / "MNIST" / "raw"
    write_tiny_mnist(raw, gzipped=True)
    found = data.locate(tmp_path)
    assert all(p is not None and p.suffix == ".gz" for p in found.values())
    with gzip.open(found["train_labels"]) as fh:
        assert fh.read(4) == b"\x00\x00\x08\x01"


def test_missing_data_says_how_to_fix(tmp_path):
    with pytest.raises(data.DataMissing, match="grader data download"):
        data.require(tmp_path)


def test_resolution_order(tmp_path, monkeypatch):
    monkeypatch.setenv("GRADER_DATA_DIR", str(tmp_path / "env"))
    assert data.resolve_dir(tmp_path / "cli") == tmp_path / "cli"
    assert data.resolve_dir(None) == tmp_path / "env"
    monkeypatch.delenv("GRADER_DATA_DIR")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert data.resolve_dir(None) == tmp_path / "xdg" / "grader" / "mnist"


def test_download_keeps_stdout_clean_for_json(real_data, tmp_path, monkeypatch, capsys):
    """torchvision prints its progress to stdout; `check --json` needs stdout for the report alone."""
    import torchvision.datasets

    class FakeMNIST:  # what torchvision does, minus the network: print, then leave the raw files
        def __init__(self, root, train, download):
            print("Downloading https://example/train-images-idx3-ubyte.gz")
            raw = Path(root) / "MNIST" / "raw"
            raw.mkdir(parents=True, exist_ok=True)
            for path in data.locate(real_data).values():
                shutil.copy(path, raw / path.name)

    monkeypatch.setattr(torchvision.datasets, "MNIST", FakeMNIST)
    st = data.download(tmp_path / "cache")
    out, err = capsys.readouterr()
    assert st.ok and out == "" and "Downloading" in err


def test_gzipped_files_are_served_from_a_raw_copy_made_once(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    folder = write_tiny_mnist(tmp_path / "gz", gzipped=True)
    gz = data.locate(folder)["train_images"]
    raw = data.decompressed(gz)
    assert raw != gz and raw.read_bytes() == gzip.open(gz).read()  # the sandboxes skip gunzip
    made = raw.stat().st_mtime_ns
    assert data.decompressed(gz) == raw and raw.stat().st_mtime_ns == made  # made once, then reused
    assert data.decompressed(raw) == raw  # a raw file is used where it is
    monkeypatch.setenv("XDG_CACHE_HOME", str(folder / "train-labels-idx1-ubyte.gz"))  # a file: no cache there
    assert data.decompressed(gz) == gz  # the .gz itself, never an error
