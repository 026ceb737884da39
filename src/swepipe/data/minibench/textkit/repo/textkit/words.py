"""Counting and measuring words."""


def word_count(text):
    """Number of words in `text`, words being separated by whitespace."""
    return len(text.split(" "))


def longest_word(text):
    """The longest word of `text` (the first one on ties)."""
    words = text.split()
    return max(words, key=len) if words else ""
