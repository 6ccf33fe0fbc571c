"""Summarise a py-spy `--format raw` profile: own and inclusive time per function.

    python bench/profile_summary.py PROFILE.txt [--top 30] [--process PATTERN]

py-spy's raw format is one collapsed stack per line (`frame;frame;... count`), the
first frame naming the process. The summary shows, per process, where samples fell
(own time, the innermost frame) and which functions held most time (inclusive).
"""

from __future__ import annotations

import argparse
import re
import sys
from collections import Counter, defaultdict


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("profile")
    parser.add_argument("--top", type=int, default=30)
    parser.add_argument("--process", default="", help="only processes matching this regex")
    args = parser.parse_args(argv)
    own: dict[str, Counter[str]] = defaultdict(Counter)
    inclusive: dict[str, Counter[str]] = defaultdict(Counter)
    totals: Counter[str] = Counter()
    with open(args.profile, encoding="utf-8", errors="replace") as fh:
        for line in fh:
            stack, _, count = line.rstrip("\n").rpartition(" ")
            if not stack or not count.isdigit():
                continue
            frames = stack.split(";")
            process = re.sub(r"\s+", " ", frames[0])[:60]
            if args.process and not re.search(args.process, process):
                continue
            n = int(count)
            totals[process] += n
            own[process][frames[-1]] += n
            for frame in set(frames[1:]):
                inclusive[process][frame] += n
    for process, total in totals.most_common():
        print(f"== {process}: {total} samples")
        print("  own time:")
        for frame, n in own[process].most_common(args.top):
            print(f"    {100 * n / total:5.1f}%  {frame[:110]}")
        print("  inclusive:")
        for frame, n in inclusive[process].most_common(args.top):
            print(f"    {100 * n / total:5.1f}%  {frame[:110]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
