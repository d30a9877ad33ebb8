"""Three seeds per shipped model: report them, and ship one chosen without looking at test.

    python -m rnn_core train --all --jobs 2 --seed 13 --ru-csv PATH --out-dir /tmp/seeds/s13   # and 14, 15
    python scripts/seeds.py /tmp/seeds/s13 /tmp/seeds/s14 /tmp/seeds/s15            # a Markdown table
    python scripts/seeds.py /tmp/seeds/s13 /tmp/seeds/s14 /tmp/seeds/s15 --ship     # copy the chosen ones

The choice never looks at the test split: first the fewest wrong labels on the app's own example sentences (the
default sentence, the example chips and the memory-path pair, whose labels the captions state: rnn_core/examples.py),
then the best behaviour-suite pass rate, then the best validation accuracy (ties: the earlier seed). Validation alone
picked a Russian GRU that calls the specification's own «это отличный фильм» negative and a Russian LSTM that fails
a third of the suite's contrasts (docs/training.md, "The shipped models"). The suite and validation figures of the
chosen seeds are therefore a little optimistic; test is untouched by the choice. With --ship each chosen bundle is
copied into assets/models with a "seeds" entry in its card (every seed's validation and test accuracy, suite pass
rate and example errors), and the card's checksum in config.json is renewed.
"""
from __future__ import annotations

import argparse
import json
import shutil
import statistics
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from rnn_core import examples  # noqa: E402
from rnn_core.bundle import MODELS_DIR, add_extras, load_model  # noqa: E402
from rnn_core.recipes import SHIPPED  # noqa: E402
from rnn_core.trace import trace  # noqa: E402


def example_errors(path: Path) -> int:
    """How many of the app's example sentences the bundle labels against what the app says about them."""
    b = load_model(path)
    return sum((trace(b.model, b.vocab, x).p >= 0.5) != bool(examples.LABELS[x]) for x in examples.claimed(b.lang))


def cards(dirs: list[Path]) -> dict[str, list[dict]]:
    out = {}
    for name in SHIPPED:
        out[name] = [{**json.loads((d / name / "metrics.json").read_text(encoding="utf-8")),
                      "example_errors": example_errors(d / name)} for d in dirs]
    return out


def summary(runs: list[dict]) -> dict:
    seeds = [{"seed": c["train_config"]["seed"], "val_accuracy": round(c["val_accuracy"], 4),
              "test_accuracy": round(c["test_accuracy"], 4), "example_errors": c["example_errors"],
              "suite_pass_rate": c.get("behaviour", {}).get("pass_rate")} for c in runs]
    best = max(range(len(runs)), key=lambda k: (-runs[k]["example_errors"], runs[k]["behaviour"]["pass_rate"],
                                                runs[k]["val_accuracy"], -k))
    tests = [s["test_accuracy"] for s in seeds]
    return {"runs": seeds, "chosen_seed": seeds[best]["seed"],
            "chosen_on": "fewest wrong app examples, then suite pass rate, then validation accuracy (never test)",
            "test_mean": round(statistics.mean(tests), 4), "test_sd": round(statistics.stdev(tests), 4)}


def table(all_cards: dict[str, list[dict]]) -> str:
    seeds = [c["train_config"]["seed"] for c in next(iter(all_cards.values()))]
    head = " | ".join(f"seed {s} val / test (wrong examples)" for s in seeds)
    lines = [f"| model | {head} | test mean ± sd | suite (chosen) | chosen |", "|" + "---|" * (len(seeds) + 4)]
    for name, runs in all_cards.items():
        s = summary(runs)
        chosen = next(c for c in runs if c["train_config"]["seed"] == s["chosen_seed"])
        cells = " | ".join(f"{r['val_accuracy'] * 100:.1f} / {r['test_accuracy'] * 100:.1f} ({r['example_errors']})"
                           for r in s["runs"])
        lines.append(f"| {name} | {cells} | {s['test_mean'] * 100:.1f} ± {s['test_sd'] * 100:.1f} | "
                     f"{chosen['behaviour']['pass_rate'] * 100:.1f} | {s['chosen_seed']} |")
    return "\n".join(lines)


def ship(dirs: list[Path], all_cards: dict[str, list[dict]], dest: Path = MODELS_DIR) -> None:
    for name, runs in all_cards.items():
        s = summary(runs)
        src = dirs[[r["seed"] for r in s["runs"]].index(s["chosen_seed"])] / name
        target = dest / name
        shutil.rmtree(target, ignore_errors=True)
        shutil.copytree(src, target)
        card = json.loads((target / "metrics.json").read_text(encoding="utf-8"))
        card["seeds"] = s
        (target / "metrics.json").write_text(json.dumps(card, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        add_extras(target, {})  # re-sign: config.json holds the card's checksum
        print(f"{name}: seed {s['chosen_seed']} -> {target}", file=sys.stderr)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("dirs", nargs="+", type=Path, help="out-dirs of train --all, one per seed")
    ap.add_argument("--ship", action="store_true", help="copy each model's chosen seed into assets/models")
    args = ap.parse_args(argv)
    all_cards = cards(args.dirs)
    print(table(all_cards))
    if args.ship:
        ship(args.dirs, all_cards)
    return 0


if __name__ == "__main__":
    sys.exit(main())
