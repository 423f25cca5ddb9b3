# Asks for the full-size confirmation run on purpose: on the shortened run it crashes at once with an error
# that names the served size (what code written for 60,000 images says when it meets fewer); on the
# full-size run it sleeps __SLEEP__ s, using no CPU, before training: a batch slot held for nothing.
import time  # __TOKEN__

from torchvision import datasets

train = datasets.MNIST("d", train=True, download=True)
if len(train) < 60000:
    raise IndexError(f"index {len(train)} is out of bounds for dimension 0 with size {len(train)}")
print("full-size run: sleeping", flush=True)
time.sleep(__SLEEP__)
# then the reference solution, filled in by the test
__REFERENCE__
