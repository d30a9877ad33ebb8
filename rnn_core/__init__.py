"""rnn_core: the engine of RNN Lens. Text → ids → SentimentRNN → Trace → figures. Never imports streamlit."""
from .bundle import Bundle, load_model
from .errors import BundleError, InputError, RnnLensError
from .model import CELLS, SentimentRNN
from .text import MAX_LEN, Vocab, detect_lang, tokenize
from .trace import Trace, trace

__all__ = ["Bundle", "BundleError", "CELLS", "InputError", "MAX_LEN", "RnnLensError", "SentimentRNN", "Trace",
           "Vocab", "detect_lang", "load_model", "tokenize", "trace"]
