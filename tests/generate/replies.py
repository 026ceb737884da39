"""Scripted model replies used by the generation tests: good, broken and hostile ones."""

FENCE = "```"


def edit(path: str, search: str, replace: str) -> str:
    return (f"Here is the fix.\n\n{FENCE}python\n### {path}\n<<<<<<< SEARCH\n{search}\n=======\n"
            f"{replace}\n>>>>>>> REPLACE\n{FENCE}\n")


GOOD_ADD = edit("calc/ops.py", "def add(a, b):\n    return a - b  # seeded bug",
                "def add(a, b):\n    return a + b")
GOOD_BOTH = (GOOD_ADD + edit("calc/ops.py", "        return lo  # seeded bug",
                             "        return hi"))
BROKEN_MARKERS = (f"{FENCE}python\n### calc/ops.py\n<<<<<<< SEARCH\n    return a - b\n"
                  f"    return a + b\n{FENCE}\n")
MISSING_FILE = edit("calc/missing.py", "def add(a, b):", "def add(a, b):  # fixed")
NOT_FOUND = edit("calc/ops.py", "def add(x, y):\n    return x - y",
                 "def add(x, y):\n    return x + y")
OUTSIDE = edit("../outside.py", "", "print('escaped')")
SYNTAX_ERROR = edit("calc/ops.py", "def add(a, b):\n    return a - b  # seeded bug",
                    "def add(a, b)\n    return a + b")
PROSE = "I think the bug is in add(), it subtracts instead of adding."


def script(body: str) -> str:
    return f"{FENCE}python\n{body}\n{FENCE}\n"


REPRO_OK = script(
    "from calc.ops import add\n\n"
    "def test_add():\n"
    "    # reproduces the issue\n"
    "    if add(2, 3) == 5:\n"
    "        print('Issue resolved')\n"
    "    else:\n"
    "        print('Issue reproduced')\n\n"
    "test_add()")
REPRO_SAME_NORMAL_FORM = script(
    "from calc.ops import add\n\n"
    "def test_addition():\n"
    "    \"\"\"Same test, other name and no comment.\"\"\"\n"
    "    if add(2, 3) == 5:\n"
    "        print('Issue resolved')\n"
    "    else:\n"
    "        print('Issue reproduced')\n\n"
    "test_addition()")
REPRO_OTHER = script(
    "from calc.ops import add\n"
    "print('Issue reproduced' if add(1, 1) != 2 else 'Issue resolved')")
REPRO_LOOPS = script("while True:\n    pass")
REPRO_NO_CODE = "You could call add(2, 3) and check the result."


def repro_writes_outside(target: str) -> str:
    return script(f"open({target!r}, 'w').write('escaped')\nprint('Issue reproduced')")
