"""Time the revision diff (articles.selectors.diff_sections, behind the revisions page and the
editor UI) on bodies of growing size, to see how its cost grows with the text.

    .venv/bin/python bench/diff.py                      # sizes 12.5k, 25k, 50k, 100k, 200k characters
    .venv/bin/python bench/diff.py --sizes 50000,200000 --limit 60

Each case diffs two versions of a body made of ~1,000-character paragraphs of varied words:
- `edits`: the Markdown as most editors write it (one paragraph per line), a word changed in one
  paragraph in ten;
- `one-line`: the same text with no line break at all (pasted from elsewhere), a word changed every
  ~1,000 characters;
- `rewrite`: every paragraph replaced by another of the same length (nothing in common but the
  vocabulary);
- `list`: ~20-character lines (a long list or table), a word changed in one line in ten.
The best of `--repeat` wall times is printed per case and size (seconds); a run over `--limit`
seconds is stopped and shown as `> limit`. Needs no database.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

WORDS = [
    "heart", "failure", "patients", "treatment", "guideline", "dose", "trial", "evidence", "risk", "blood",
    "pressure", "kidney", "medicine", "reduce", "symptoms", "hospital", "admission", "outcome", "review",
    "randomised", "controlled", "cohort", "the", "a", "of", "and", "in", "to", "with", "for", "is", "that", "on",
    "as", "by", "at", "may", "should",
]


def paragraph(rng: random.Random, size: int) -> str:
    words: list[str] = []
    length = 0
    while length < size:
        word = rng.choice(WORDS)
        words.append(word)
        length += len(word) + 1
    return " ".join(words)


def versions(case: str, size: int, seed: int = 7) -> tuple[str, str]:
    rng = random.Random(seed)
    width = 20 if case == "list" else 1000
    paragraphs = [paragraph(rng, width) for _ in range(max(1, size // width))]
    if case == "rewrite":
        return "\n\n".join(paragraphs), "\n\n".join(paragraph(rng, width) for _ in paragraphs)
    edited = []
    for i, text in enumerate(paragraphs):
        if case == "one-line" or i % 10 == 0:
            words = text.split(" ")
            words[rng.randrange(len(words))] = "changed"
            text = " ".join(words)
        edited.append(text)
    joiner = {"one-line": " ", "list": "\n"}.get(case, "\n\n")
    return joiner.join(paragraphs), joiner.join(edited)


def _run(case: str, size: int, repeat: int, out: multiprocessing.Queue) -> None:
    import django

    django.setup()
    from articles.selectors import diff_sections

    old, new = versions(case, size)
    best = float("inf")
    for _ in range(repeat):
        started = time.perf_counter()
        diff_sections({"Body": old}, {"Body": new})
        best = min(best, time.perf_counter() - started)
    out.put(best)


def timed(case: str, size: int, repeat: int, limit: float) -> float | None:
    """The best time of `repeat` diffs, or None past `limit` seconds (the run is stopped)."""
    out: multiprocessing.Queue = multiprocessing.Queue()
    process = multiprocessing.Process(target=_run, args=(case, size, repeat, out))
    process.start()
    process.join(limit)
    if process.is_alive():
        process.kill()
        process.join()
        return None
    return out.get()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="12500,25000,50000,100000,200000")
    parser.add_argument("--cases", default="edits,one-line,rewrite,list")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--limit", type=float, default=120.0, help="seconds before a run is stopped")
    args = parser.parse_args()
    sizes = [int(size) for size in args.sizes.split(",")]
    print(f"{'case':<10}" + "".join(f"{size:>12,}" for size in sizes))
    for case in args.cases.split(","):
        cells = []
        for size in sizes:
            seconds = timed(case, size, args.repeat, args.limit)
            cells.append(f"> {args.limit:g}" if seconds is None else f"{seconds:.3f}")
        print(f"{case:<10}" + "".join(f"{cell:>12}" for cell in cells), flush=True)


if __name__ == "__main__":
    main()
