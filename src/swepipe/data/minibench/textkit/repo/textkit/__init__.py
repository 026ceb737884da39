"""Small text utilities."""

from textkit.words import word_count, longest_word
