"""The computations behind the "look inside" pages. Pure functions over a model and ids or Traces that return numpy
arrays and JSON-ready dicts; their figures live in rnn_core.figures.inside.

    gradients.py    ‖∂h_T/∂h_t‖ and its factors on a sentence, trained vs untrained (via trace.unroll's probe)
    experiments.py  the long-range memory and exploding-gradient experiments (seeded, budgeted in steps)
    lab_defaults.py the gradient lab's default settings (no torch: the CLI's parser reads them)
    captions.py     the gradient lab's captions and tables, written from the numbers
    commands.py     `python -m rnn_core explain …`: the numbers of the importance and gradient pages from the shell
    attribution.py  word importance: Integrated Gradients (Captum) on the embedding layer, occlusion as a check
    memory_path.py  a PCA plane per model and each sentence's path through it
    neurons.py      for every hidden unit, the contexts where it is most positive and most negative
"""
