"""Check that no behaviour-suite sentence appears in a training corpus (any split): exact match of the normalised
token sequence, and for sentences of 5+ tokens, containment inside a corpus text. The English check also runs in
the tests; the Russian corpus is not in the repository, so its check is run by hand (result in docs/training.md):

    python scripts/suite_overlap.py --ru-csv PATH/rusentitweet_train.csv
"""
import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run from a checkout, without installing

from rnn_core.behaviour import load_suite
from rnn_core.data import load_en, read_csv_frame
from rnn_core.text import tokenize


def overlaps(lang: str, texts: list[str]) -> list[str]:
    corpus = [" ".join(tokenize(t)) for t in texts]
    exact = set(corpus)
    hits = []
    for text, _, _ in load_suite(lang):
        key = " ".join(tokenize(text))
        if key in exact or (len(key.split()) >= 5 and any(key in c for c in corpus)):
            hits.append(text)
    return hits


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--ru-csv")
    args = ap.parse_args()
    bad = 0
    runs = [("en", load_en().texts)]
    if args.ru_csv:  # every row, whatever its label (neutral rows train too)
        runs.append(("ru", list(read_csv_frame(args.ru_csv)["text"])))
    for lang, texts in runs:
        hits = overlaps(lang, texts)
        print(f"{lang}: {len(load_suite(lang))} suite sentences, {len(texts)} corpus texts, {len(hits)} overlaps"
              + "".join(f"\n  {h}" for h in hits))
        bad += len(hits)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
