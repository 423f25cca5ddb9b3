# Tries to take 30 GB, one touched gigabyte at a time.
import torch

print("allocating 30 GB")
hoard = [torch.ones(2**28) for _ in range(30)]  # 30 x 1 GiB of float32, every page written
print("allocated", len(hoard))
