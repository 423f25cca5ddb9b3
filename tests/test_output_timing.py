"""The same verdict however the output was read (issue 16, class 4), on programs spelled as the bytes they
write and the events they cause, fed through the harness's own LineSplitter the way FdCapture feeds it:
everything written before an event is read before that event, and otherwise reads fall anywhere (chunk
boundaries inside a write, in the middle of "\\r\\n", extra reads by the pump thread). Each program is
replayed under many read schedules, and under both of tqdm's timings where they differ (a redraw when its
refresh interval has passed, none when it has not). tests/test_e2e.py::test_tqdm_verdicts_under_load runs real
tqdm programs on a machine made busy on purpose."""

import random

import pytest
from builders import TraceBuilder, realistic_losses

from grader import checks
from grader.checks import Context
from grader.checks.prints import _reports
from grader.harness.output import LineSplitter
from grader.rubric import Rubric
from grader.static import analyse

SERVED, BS = 3000, 64
BATCHES = -(-SERVED // BS)


class Replay:
    """A program's writes and events, recorded as the harness would under one read schedule (a seed)."""

    def __init__(self, seed: int | None):
        self.rng = random.Random(seed) if seed is not None else None
        self.b = TraceBuilder().setup(train_size=SERVED)
        self.splitters = {"o": LineSplitter(), "e": LineSplitter()}
        self.unread = {"o": "", "e": ""}

    def write(self, text: str, stream: str = "e") -> None:
        self.unread[stream] += text
        if self.rng is not None and self.rng.random() < 0.6:  # the pump read part of what is there
            self._read(stream, self.rng.randint(0, len(self.unread[stream])))

    def event(self) -> TraceBuilder:
        """Before the harness records an event, it drains both pipes (Recorder.before)."""
        for stream in "oe":
            self._read(stream, len(self.unread[stream]))
        return self.b

    def _read(self, stream: str, n: int) -> None:
        data, self.unread[stream] = self.unread[stream][:n], self.unread[stream][n:]
        splitter = self.splitters[stream]
        for text, end, row in splitter.feed(data):
            self.b.line(text, end=end, stream=stream, row=row)
        if (state := splitter.unfinished()) is not None:
            self.b.line(state[0], end="", stream=stream, row=state[1])

    def verdict(self) -> tuple:
        self.event()
        for stream, splitter in self.splitters.items():
            for text, end, row in splitter.flush():
                self.b.line(text, end=end, stream=stream, row=row)
        self.b.end()
        c = Context(self.b.trace(), analyse(""), Rubric())
        out = checks.check_prints_loss(c)
        return out.passed, out.credit, out.message, [[r.text for r in _reports(ep)] for ep in c.epochs]


def train(replay: Replay, epoch: int, each) -> list[float]:
    """One epoch of a DataLoader loop; `each(n, loss)` writes what the program writes after batch n."""
    losses = realistic_losses()[epoch - 1]
    replay.event().ev("pass_start", loader=1, pass_no=epoch, train=True, dataset_size=SERVED, batches=BATCHES,
                      bs=BS)
    for n, value in enumerate(losses):
        replay.event().train_step(value, bs=min(BS, SERVED - n * BS), in_pass=[1, epoch])
        each(n, value)
    replay.event().ev("pass_end", loader=1, pass_no=epoch, batches=BATCHES, examples=SERVED)
    return losses


def bar(desc: str, n: int, postfix: str = "") -> str:
    return f"{desc}: {100 * n // BATCHES:3d}%|###| {n}/{BATCHES} [00:01<00:00, 41.23it/s{postfix}]"


def postfix_every_batch(replay: Replay, refreshed) -> None:
    """for x in tqdm(loader): ...; pbar.set_postfix(loss=loss.item()) -- the bar closes with its final state."""
    for e in range(1, 11):
        replay.write("\r" + bar(f"Epoch {e}", 0))
        losses = train(replay, e, lambda n, v: replay.write("\r" + bar(f"Epoch {e}", n + 1, f", loss={v:.4f}")))
        replay.write("\r" + bar(f"Epoch {e}", BATCHES, f", loss={losses[-1]:.4f}"))
        replay.write("\n")


def trange_set_description(replay: Replay, refreshed) -> None:
    """for e in trange(1, 11): train(); epochs.set_description(f"Epoch {e} loss {l:.4f}"): tqdm redraws on the
    next iteration only when its refresh interval (0.1 s) has passed since its last redraw, so a quick epoch
    leaves the description's redraw unended until the next epoch's."""
    desc = "training"
    replay.write("\r" + bar(desc, 0))
    for e in range(1, 11):
        losses = train(replay, e, lambda n, v: None)
        desc = f"Epoch {e} loss {sum(losses) / len(losses):.4f}"
        replay.write("\r" + bar(desc, e - 1))
        if refreshed(e):
            replay.write("\r" + bar(desc, e))
    replay.write("\r" + bar(desc, 10) + "\n")


def nested_bars(replay: Replay, refreshed) -> None:
    """An epoch bar (position 0) with the epoch's mean loss in its postfix, and a batch bar (position=1,
    leave=False) drawn on the row below with cursor moves, as tqdm writes them."""
    replay.write("\r" + bar("Epochs", 0))
    for e in range(1, 11):
        replay.write("\n\r" + bar(f"Epoch {e}", 0) + "\x1b[A")
        losses = train(replay, e, lambda n, v: replay.write(
            "\n\r" + bar(f"Epoch {e}", n + 1, f", batch_loss={v:.4f}") + "\x1b[A") if refreshed(n) else None)
        replay.write("\n\r" + " " * 60 + "\x1b[A" + "\r")  # the batch bar clears its row
        replay.write("\r" + bar("Epochs", e - 1, f", loss={sum(losses) / len(losses):.4f}"))
    replay.write("\n")


def print_with_crlf(replay: Replay, refreshed) -> None:
    """print(..., end="\\r\\n"), the two characters often read apart."""
    for e in range(1, 11):
        losses = train(replay, e, lambda n, v: None)
        replay.write(f"Epoch {e}, loss {losses[-1]:.4f}\r", "o")
        replay.write("\n", "o")


def unfinished_line_then_next_epoch(replay: Replay, refreshed) -> None:
    """print(f"epoch {e} loss {l:.4f}", end=" | "): each epoch's line ends only when the program ends."""
    for e in range(1, 11):
        losses = train(replay, e, lambda n, v: None)
        replay.write(f"epoch {e} loss {losses[-1]:.4f}", "o")
        replay.write("\r" if e < 10 else "\n", "o")


PROGRAMS = [postfix_every_batch, trange_set_description, nested_bars, print_with_crlf,
            unfinished_line_then_next_epoch]


@pytest.mark.parametrize("program", PROGRAMS, ids=lambda p: p.__name__)
def test_the_verdict_does_not_depend_on_how_the_output_was_read(program):
    verdicts = set()
    for timing in (lambda n: True, lambda n: False, lambda n: n % 3 == 0):  # tqdm's refresh interval
        seen = []
        for seed in [None, *range(8)]:  # None: every write read at once, before the next event
            replay = Replay(seed)
            program(replay, timing)
            seen.append(replay.verdict())
        assert all(v == seen[0] for v in seen), next(v for v in seen if v != seen[0])  # reports and all
        verdicts.add(seen[0][:2])
    assert verdicts == {(True, 0.0)}  # passed, whichever redraws tqdm's clock allowed


def test_an_epochs_bar_state_written_in_it_but_ended_in_the_next_belongs_to_it():
    """The trange case where no refresh came: epoch 3's description is on screen from the end of epoch 3, and
    its line ends only when epoch 4's description is drawn."""
    replay = Replay(None)
    trange_set_description(replay, lambda e: False)
    *_, reports = replay.verdict()
    assert [r[-1].split(":")[0] for r in reports] == [f"Epoch {e} loss {x}" for e, x in zip(
        range(1, 11), [f"{sum(ls) / len(ls):.4f}" for ls in realistic_losses()])]
