from swepipe.repos.code import CodeIntel, definitions, enclosing, find_symbol
from tests.repos.gitrepo import GO_SERVER, JAVA_PARSER, JS_ROUTER, PY_MODELS, TS_CACHE


def _spans(source: str, language: str) -> dict[str, tuple[str, int, int]]:
    return {d.qualname: (d.kind, d.start_line, d.end_line)
            for d in definitions(source, language)}


def test_python_definitions_have_qualified_names_and_inclusive_spans():
    spans = _spans(PY_MODELS, "python")
    assert spans["TAX_RATE"] == ("variable", 5, 5)
    assert spans["Cart"] == ("class", 8, 26)
    assert spans["Cart.max_items"] == ("variable", 11, 11)
    assert spans["Cart.add_item"] == ("function", 17, 21)
    assert spans["Cart.total_price"] == ("function", 23, 26)
    assert spans["empty_cart"] == ("function", 29, 30)


def test_python_span_starts_at_decorators_and_nested_classes_are_dotted():
    src = "class A:\n    @property\n    def f(self):\n        return 1\n\n    class B:\n" \
          "        def g(self):\n            pass\n"
    spans = _spans(src, "python")
    assert spans["A.f"] == ("function", 2, 4)
    assert spans["A.B.g"] == ("function", 7, 8)


def test_javascript_definitions():
    spans = _spans(JS_ROUTER, "javascript")
    assert spans["Router"][0:2] == ("class", 1)
    assert spans["Router.matchPath"] == ("function", 6, 8)
    assert spans["normalizeSlashes"] == ("function", 11, 13)
    assert spans["DEFAULT_ROUTE"] == ("variable", 15, 15)


def test_typescript_definitions():
    spans = _spans(TS_CACHE, "typescript")
    assert spans["CacheEntry"] == ("class", 1, 4)
    assert spans["LruCache.evictExpired"] == ("function", 13, 15)
    assert spans["LruCache.entries"][0] == "variable"
    assert spans["makeCache"] == ("function", 18, 20)


def test_java_definitions():
    spans = _spans(JAVA_PARSER, "java")
    assert spans["InvoiceParser"] == ("class", 3, 17)
    assert spans["InvoiceParser.MAX_LINES"] == ("variable", 4, 4)
    assert spans["InvoiceParser.InvoiceParser"] == ("function", 6, 7)
    assert spans["InvoiceParser.parse"] == ("function", 9, 11)
    assert spans["InvoiceParser.Line.amount"] == ("function", 15, 15)


def test_go_methods_are_qualified_by_receiver_type():
    spans = _spans(GO_SERVER, "go")
    assert spans["DefaultPort"] == ("variable", 5, 5)
    assert spans["Server"] == ("class", 7, 9)
    assert spans["Server.Start"] == ("function", 11, 13)
    assert spans["NewServer"] == ("function", 15, 17)


def test_parse_results_are_cached_per_content_hash(tmp_path):
    intel = CodeIntel()
    intel.definitions(PY_MODELS, "python")
    intel.definitions(PY_MODELS, "python")
    assert intel.parses == 1
    intel.definitions(PY_MODELS + "\n", "python")
    assert intel.parses == 2


def test_disk_cache_serves_a_new_process_without_parsing(tmp_path):
    CodeIntel(cache_dir=tmp_path).definitions(GO_SERVER, "go")
    fresh = CodeIntel(cache_dir=tmp_path)
    defs = fresh.definitions(GO_SERVER, "go")
    assert fresh.parses == 0
    assert defs == definitions(GO_SERVER, "go")


def test_syntax_errors_still_give_the_definitions_that_parse():
    spans = _spans("def ok():\n    return 1\n\ndef broken(:\n", "python")
    assert "ok" in spans


def test_find_symbol_is_tolerant_of_model_spelling():
    defs = definitions(PY_MODELS, "python")
    assert find_symbol(defs, "Cart.add_item", "function").qualname == "Cart.add_item"
    assert find_symbol(defs, "add_item", "function").qualname == "Cart.add_item"
    assert find_symbol(defs, "Basket.add_item()", "function").qualname == "Cart.add_item"
    assert find_symbol(defs, "nothing_here", "function") is None


def test_enclosing_returns_the_innermost_definition():
    defs = definitions(PY_MODELS, "python")
    assert enclosing(defs, 19).qualname == "Cart.add_item"
    assert enclosing(defs, 10, 12).qualname == "Cart"
    assert enclosing(defs, 1) is None
