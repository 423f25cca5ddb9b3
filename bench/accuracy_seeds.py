"""How the rubric's training-subset size and accuracy threshold were chosen: held-out accuracy of the
reference and of the known-bad loops, across seeds. The reference must clear the threshold with a margin
on every seed; the bad loops must not.

Usage: python bench/accuracy_seeds.py [--seeds 5] [--sandbox process] [--train-examples 3000]
"""

import argparse
import statistics
from pathlib import Path

from grader.grade import Grader, Options
from grader.rubric import Rubric

ROOT = Path(__file__).resolve().parent.parent
BAD = ["lr_too_high.py", "no_zero_grad.py", "nll_without_log_softmax.py"]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--sandbox", default="process")
    parser.add_argument("--train-examples", type=int, default=Rubric().train_examples)
    parser.add_argument("--bad", action="store_true", help="also the known-bad loops (one seed each)")
    args = parser.parse_args()
    rubric = Rubric(train_examples=args.train_examples)
    accs = []
    for seed in range(args.seeds):
        rep = Grader(Options(rubric=rubric, seed=seed, sandbox=args.sandbox, device="cpu")).grade(
            ROOT / "reference" / "solution.py")
        accs.append(rep.training.accuracy)
        print(f"reference seed {seed}: accuracy {rep.training.accuracy:.4f}  score {rep.score:g}/{rep.max_score:g}")
    print(f"reference on {args.train_examples} images: min {min(accs):.4f}, mean {statistics.mean(accs):.4f}; "
          f"threshold {rubric.accuracy_threshold:.2f}, margin {min(accs) - rubric.accuracy_threshold:+.4f}")
    if args.bad:
        grader = Grader(Options(rubric=rubric, sandbox=args.sandbox, device="cpu"))
        for name in BAD:
            rep = grader.grade(ROOT / "submissions" / name)
            print(f"{name}: accuracy {rep.training.accuracy:.4f}  learns passed: {rep.check('learns').passed}")


if __name__ == "__main__":
    main()
