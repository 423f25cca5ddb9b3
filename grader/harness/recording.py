"""When the harness records a network, and how much of a step it writes down: shared with the host, which
plans the replay (grader/replay.py) without importing torch, so nothing here may import it."""

WINDOWS = (1, 8, 64, 512, 4096)  # a tape is recorded after these backward passes (model.py)
# parameters: a record costs ~26 bytes of trace per parameter (values at the forward pass, before and after the
# step, gradients, Adam's two moments, as raw float32) plus the input batch: 2.8 MB for the reference's 109,386,
# and at most five records a run; a larger model's steps are not written down, and the host says it cannot
# verify them
MAX_ELEMENTS = 1_000_000
TOO_LARGE = "too many to write down"  # the reason a step over MAX_ELEMENTS carries instead of its data
