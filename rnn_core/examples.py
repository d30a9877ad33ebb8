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
