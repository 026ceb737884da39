from textkit.words import longest_word, word_count


def test_single_word():
    assert word_count("hello") == 1


def test_longest_word():
    assert longest_word("a bb ccc") == "ccc"
