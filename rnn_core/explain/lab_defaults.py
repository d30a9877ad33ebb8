"""The gradient lab's default settings, without torch: the CLI's argument parser reads them, and `--help` must not
pay for importing torch. rnn_core.explain.gradients explains them and runs the experiments."""
from __future__ import annotations

from pathlib import Path

LONG_SENTENCE = 50  # words in the "long sentence": the user's sentence repeated (the shipped models read ≤ 50)

# The default long-range sweep. Its results ship as data (DEFAULT_FILE, written by DEFAULT_COMMAND) so the page
# shows them at once; any other setting runs live. Why gate bias 3: at initialisation a memory gate at bias b keeps
# a fraction σ(b) of the old state per step, so after 80 steps σ(b)^80 of the first token's trace is left:
# 1e-24 at PyTorch's ≈0, 1e-11 at 1 (Jozefowicz et al. 2015's advice for ordinary tasks), 2e-5 at 2, 0.02 at 3.
# A pure 80-step lag needs the path open from the start; measured with these settings, gated cells at bias 1 fail
# at length 40 within 1000 steps, at bias 3 they solve every length in ≤ 120 steps.
LONG_RANGE = {"steps": 1000, "emb_dim": 16, "hidden_dim": 16, "n_distractors": 20, "batch_size": 32, "lr": 3e-3,
              "n_test": 500, "n_grad": 8, "solved_at": 0.99, "gate_bias": 3.0}
LONG_LENGTHS, LONG_SEEDS = (5, 10, 20, 40, 80), (0, 1, 2)
DEFAULT_FILE = Path(__file__).with_name("longrange_default.json")
DEFAULT_COMMAND = "python -m rnn_core explain longrange --seeds 0 1 2 --write-default"

# The exploding demo: a plain RNN whose W_hh starts `init_scale` times PyTorch's, trained with SGD at lr 3 (a huge
# gradient is a huge step), with and without clipping at `clip`. Length 10, not longer: from length 20 on the forward
# pass at this radius amplifies rounding so much that even the clipped run solves the task on some machines and not
# on others (measured; see experiments.exploding_experiment).
EXPLODING = {"cell": "rnn", "init_scale": 8.0, "clip": 0.25, "steps": 300, "seed": 0, "length": 10, "lr": 3.0,
             "emb_dim": 16, "hidden_dim": 32, "batch_size": 32, "n_distractors": 20}
