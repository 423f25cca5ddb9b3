"""How long the unmodified reference takes: 10 full epochs over all 60,000 images, as a student runs it.

The script runs as-is from a scratch folder whose ./data/MNIST/raw holds the real MNIST, so torchvision
finds the files instead of downloading. Usage: python bench/unmodified_reference.py [--data-dir DIR]
"""

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from grader import data
from grader.harness import idx

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--data-dir", type=Path)
    args = parser.parse_args()
    files = data.require(data.resolve_dir(args.data_dir))
    with tempfile.TemporaryDirectory() as tmp:
        raw = Path(tmp) / "data" / "MNIST" / "raw"
        raw.mkdir(parents=True)
        for role, path in files.items():  # torchvision looks for the decompressed files
            idx.write(raw / data.FILES[role], *idx.read(path))
        started = time.monotonic()
        subprocess.run([sys.executable, str(ROOT / "reference" / "solution.py")], cwd=tmp, check=True)
        print(f"unmodified reference, 10 epochs on 60,000 images: {time.monotonic() - started:.1f} s")


if __name__ == "__main__":
    main()
