"""The sentences the app offers a student, per text language: the default sentence, the example chips and the
memory-path pair. One home, because every claim a caption makes about them is asserted against the shipped
models in tests (tests/test_claims.py): change a sentence here and those tests say whether the lesson still holds.

The lessons they show: a contrast ("but" / «но»: the clause after it decides, so the prediction turns around
mid-sentence), negation both ways ("not good" is negative, "not bad at all" positive), and plain review words.
"""
from __future__ import annotations

DEFAULT_TEXT = {
    "en": "the cast is good, but the film is boring and not funny",
    "ru": "актёры хорошие, но фильм ужасно скучный",
}
EXAMPLES = {
    "en": ["good", "not good", "not bad at all", "a terrible boring mess", "a funny, touching and wonderful film"],
    "ru": ["это отличный фильм", "фильм не очень хороший", "совсем не плохо", "скучно и ужасно"],
}
# Memory path page: sentences drawn beside the user's own, one per line. «не» as a word of its own, so the two
# paths share a start and part at the second step.
PATH_PAIR = {"en": ["good", "not good"], "ru": ["хорошо", "не хорошо"]}
# What each sentence above is (1 = positive): the label the shipped LSTM and GRU give it (tests/test_claims.py).
LABELS = {
    "the cast is good, but the film is boring and not funny": 0, "актёры хорошие, но фильм ужасно скучный": 0,
    "good": 1, "not good": 0, "not bad at all": 1, "a terrible boring mess": 0,
    "a funny, touching and wonderful film": 1,
    "это отличный фильм": 1, "фильм не очень хороший": 0, "совсем не плохо": 1, "скучно и ужасно": 0,
    "хорошо": 1, "не хорошо": 0,
}


def default_text(lang: str) -> str:
    return DEFAULT_TEXT.get(lang, DEFAULT_TEXT["en"])


def examples(lang: str) -> list[str]:
    return EXAMPLES.get(lang, EXAMPLES["en"])


# Lesson, "what if" chips: a sentiment word and its opposite, and the negation put before a word. Only words the
# shipped vocabularies know (tests/test_lesson.py checks), so an edit never turns into ⟨unk⟩.
LESSON_SWAPS = {
    "en": {"good": "bad", "bad": "good", "great": "awful", "awful": "great", "boring": "exciting",
           "exciting": "boring", "funny": "dull", "terrible": "wonderful", "wonderful": "terrible"},
    "ru": {"хороший": "плохой", "плохой": "хороший", "хорошие": "плохие", "плохие": "хорошие", "хорошо": "плохо",
           "плохо": "хорошо", "отличный": "ужасный", "ужасный": "отличный",
           "скучно": "весело", "весело": "скучно"},
}
NEGATION = {"en": "not", "ru": "не"}


def lesson_swaps(lang: str) -> dict[str, str]:
    return LESSON_SWAPS.get(lang, LESSON_SWAPS["en"])


def claimed(lang: str) -> list[str]:
    """Every sentence whose label the app states (LABELS): the default sentence, the chips, the memory-path pair."""
    return [default_text(lang), *examples(lang), *PATH_PAIR[lang]]
