"""Line helpers."""


def line_count(text):
    """Number of lines, a trailing newline not starting a new line."""
    return len(text.splitlines())


def strip_lines(text):
    return "\n".join(line.strip() for line in text.splitlines())
