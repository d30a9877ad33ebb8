"""The sentences the app offers a student, per text language: the default sentence, the example chips and the
memory-path pair. One home, because every claim a caption makes about them is asserted against the shipped
models in tests (tests/test_claims.py): change a sentence here and those tests say whether the lesson still holds.
"""
from __future__ import annotations

DEFAULT_TEXT = {
    "en": "the cast is good, but the film is boring and not funny",
    "ru": "актёры хорошие, но сюжет скучный",
}
EXAMPLES = {
    "en": ["good", "not good", "a terrible boring mess", "a funny, touching and wonderful film"],
    "ru": ["это отличный фильм", "фильм не очень хороший", "скучно и ужасно"],
}
# Memory path page: sentences drawn beside the user's own, one per line.
PATH_PAIR = {"en": ["good", "not good"], "ru": ["хорошо", "нехорошо"]}


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
