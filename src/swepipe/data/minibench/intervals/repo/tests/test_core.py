from intervals.core import length, overlaps


def test_length():
    assert length((2, 4)) == 3


def test_disjoint():
    assert not overlaps((1, 2), (4, 5))
