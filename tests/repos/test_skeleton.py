from swepipe.repos.skeleton import skeleton
from tests.repos.gitrepo import GO_SERVER, JAVA_PARSER, JS_ROUTER, PY_MODELS, TS_CACHE


def test_python_skeleton_keeps_signatures_and_elides_bodies():
    out = skeleton(PY_MODELS, "python")
    assert out.splitlines() == [
        'TAX_RATE = decimal.Decimal("0.2")', "", "class Cart:", "    max_items = 50",
        "    def __init__(self, owner):", "        ...",
        "    def add_item(self, item, quantity=1):", "        ...",
        "    def total_price(self):", "        ...", "", "def empty_cart(owner):", "    ..."]


def test_python_skeleton_shortens_long_assignments_as_agentless_does():
    src = "TABLE = [\n" + "".join(f"    {i},\n" for i in range(50)) + "]\n"
    lines = skeleton(src, "python").splitlines()
    assert len(lines) == 21
    assert lines[:2] == ["TABLE = [", "    0,"]
    assert lines[10] == "    ..."
    assert lines[-1] == "]"


def test_python_skeleton_drops_imports_and_docstrings():
    out = skeleton(PY_MODELS, "python")
    assert "import" not in out and "shopping cart" not in out and "raise" not in out


def test_brace_language_skeletons_keep_signatures_only():
    cases = {"javascript": (JS_ROUTER, "matchPath(path) { ... }", "find("),
             "typescript": (TS_CACHE, "evictExpired(now: number): void { ... }", "clear()"),
             "java": (JAVA_PARSER, "public Invoice parse(String text) { ... }", "new Invoice"),
             "go": (GO_SERVER, "func (s *Server) Start() error { ... }", "ListenAndServe")}
    for language, (src, signature, body) in cases.items():
        out = skeleton(src, language)
        assert signature in out, language
        assert body not in out, language
