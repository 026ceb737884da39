from slugs.slugify import slugify
from slugs.unique import unique_slug


def test_plain_words():
    assert slugify("hello world") == "hello-world"


def test_unique():
    assert unique_slug("a", {"a", "a-2"}) == "a-3"
