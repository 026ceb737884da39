"""Per-language tree walkers that turn a tree-sitter tree into `Definition`s.

Only the places where Agentless looks are walked: module level, class bodies (recursively, so
`Outer.Inner.meth` exists), and module-level `if`/`try` blocks in Python (conditional imports and
fallback definitions live there). Functions nested in functions are local and are not recorded.

Spans start at decorators, annotations and `export` keywords so that an edit of the whole
definition is inside its span; `body_line`/`body_col` mark where an elided body would start.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from tree_sitter import Node

DefKind = Literal["class", "function", "variable"]


@dataclass(frozen=True, slots=True)
class Definition:
    """One named definition in a file. Lines are 1-based and inclusive."""

    kind: DefKind
    name: str
    qualname: str
    """Dotted path inside the file: `Cls.meth`, `Outer.Inner`, `func`, `VAR`, `Cls.attr`."""
    start_line: int
    end_line: int
    body_line: int | None = None
    """Line where the body starts (the part a skeleton elides); None when nothing is elided."""
    body_col: int | None = None
    """Character column (0-based) on `body_line` where the body starts."""
    parent: str | None = None
    """Qualname of the enclosing class (Go: the receiver type), None at module level."""
    start_col: int = 0
    """Character column (0-based) where the definition starts on `start_line`."""
    end_col: int | None = None
    """Character column (exclusive) where it ends on `end_line`; None means end of line."""


class _Emit:
    """Collects definitions; converts tree-sitter byte columns to character columns."""

    def __init__(self, src: bytes) -> None:
        self.lines = src.split(b"\n")
        self.out: list[Definition] = []

    def add(self, kind: DefKind, name: str, scope: str | None, span: Node,
            body: Node | None = None) -> str:
        qual = f"{scope}.{name}" if scope else name
        body_line = body_col = None
        if body is not None:
            body_line, body_col = body.start_point[0] + 1, self.col(body.start_point)
        end_line = _end_line(span)
        end_col = self.col(span.end_point) if end_line == span.end_point[0] + 1 else None
        self.out.append(Definition(kind, name, qual, span.start_point[0] + 1, end_line,
                                   body_line, body_col, scope, self.col(span.start_point),
                                   end_col))
        return qual

    def col(self, point: tuple[int, int]) -> int:
        row, col = point
        return len(self.lines[row][:col].decode("utf-8", "replace")) if col else 0


def _end_line(node: Node) -> int:
    row, col = node.end_point
    # A node ending at column 0 ends on the previous line (its trailing newline is included).
    return row if col == 0 and row > node.start_point[0] else row + 1


def _text(node: Node | None) -> str:
    return node.text.decode("utf-8", "replace") if node is not None and node.text else ""


# ---------------------------------------------------------------- Python

_PY_BLOCKS = {"if_statement", "try_statement", "elif_clause", "else_clause", "except_clause",
              "finally_clause", "block"}


def _python(node: Node, scope: str | None, em: _Emit, module: bool) -> None:
    for child in node.named_children:
        target = child
        if child.type == "decorated_definition":
            target = child.child_by_field_name("definition") or child
        if target.type == "class_definition":
            body = target.child_by_field_name("body")
            qual = em.add("class", _text(target.child_by_field_name("name")), scope, child, body)
            if body is not None:
                _python(body, qual, em, False)
        elif target.type == "function_definition":
            em.add("function", _text(target.child_by_field_name("name")), scope, child,
                   target.child_by_field_name("body"))
        elif child.type == "expression_statement" and child.named_child_count:
            assign = child.named_children[0]
            if assign.type == "assignment":
                for name in _py_targets(assign.child_by_field_name("left")):
                    em.add("variable", name, scope, child)
        elif module and child.type in _PY_BLOCKS:
            _python(child, scope, em, True)


def _py_targets(left: Node | None) -> list[str]:
    if left is None:
        return []
    if left.type == "identifier":
        return [_text(left)]
    if left.type in ("pattern_list", "tuple_pattern", "list_pattern"):
        return [_text(c) for c in left.named_children if c.type == "identifier"]
    return []


# ------------------------------------------------------ JavaScript / TypeScript

_JS_CLASSES = {"class_declaration", "abstract_class_declaration", "class"}
_JS_FUNCS = {"function_declaration", "generator_function_declaration", "function_signature"}
_JS_FUNC_VALUES = {"arrow_function", "function_expression", "function",
                   "generator_function"}
_JS_WHOLE = {"interface_declaration", "enum_declaration"}


def _js(node: Node, scope: str | None, em: _Emit) -> None:
    for child in node.named_children:
        target = child
        if child.type in ("export_statement", "ambient_declaration"):
            target = child.child_by_field_name("declaration") or (
                child.named_children[0] if child.named_child_count else child)
        if target.type == "expression_statement" and target.named_child_count:
            target = target.named_children[0]  # `namespace N {}` parses as an expression
        _js_one(child, target, scope, em)


def _js_one(span: Node, node: Node, scope: str | None, em: _Emit) -> None:
    kind = node.type
    if kind in _JS_CLASSES:
        body = node.child_by_field_name("body")
        qual = em.add("class", _text(node.child_by_field_name("name")), scope, span, body)
        for member in body.named_children if body is not None else ():
            if member.type in ("method_definition", "abstract_method_signature",
                               "method_signature"):
                em.add("function", _text(member.child_by_field_name("name")), qual, member,
                       member.child_by_field_name("body"))
            elif member.type in ("field_definition", "public_field_definition"):
                name = member.child_by_field_name("property") or member.child_by_field_name(
                    "name")
                em.add("variable", _text(name), qual, member)
    elif kind in _JS_FUNCS:
        em.add("function", _text(node.child_by_field_name("name")), scope, span,
               node.child_by_field_name("body"))
    elif kind in _JS_WHOLE:
        em.add("class", _text(node.child_by_field_name("name")), scope, span)
    elif kind == "type_alias_declaration":
        em.add("variable", _text(node.child_by_field_name("name")), scope, span)
    elif kind in ("lexical_declaration", "variable_declaration"):
        declarators = [d for d in node.named_children if d.type == "variable_declarator"]
        for decl in declarators:
            name = decl.child_by_field_name("name")
            if name is None or name.type != "identifier":
                continue
            value = decl.child_by_field_name("value")
            # Variables keep the whole statement (`const a = 1, b = 2;`), as in the other
            # languages; a function value is precise to its declarator.
            one = span if len(declarators) == 1 else decl
            if value is not None and value.type in _JS_FUNC_VALUES:
                body = value.child_by_field_name("body")
                em.add("function", _text(name), scope, one,
                       body if body is not None and body.type == "statement_block" else None)
            else:
                em.add("variable", _text(name), scope, span)
    elif kind in ("internal_module", "module"):
        body = node.child_by_field_name("body")
        if body is not None:
            qual = em.add("class", _text(node.child_by_field_name("name")), scope, span, body)
            _js(body, qual, em)


# ---------------------------------------------------------------- Java

_JAVA_TYPES = {"class_declaration", "interface_declaration", "enum_declaration",
               "record_declaration", "annotation_type_declaration"}


def _java(node: Node, scope: str | None, em: _Emit) -> None:
    for child in node.named_children:
        kind = child.type
        if kind in _JAVA_TYPES:
            body = child.child_by_field_name("body")
            qual = em.add("class", _text(child.child_by_field_name("name")), scope, child, body)
            if body is not None:
                _java(body, qual, em)
        elif kind == "enum_body_declarations":
            _java(child, scope, em)
        elif kind in ("method_declaration", "constructor_declaration",
                      "compact_constructor_declaration", "annotation_type_element_declaration"):
            em.add("function", _text(child.child_by_field_name("name")), scope, child,
                   child.child_by_field_name("body"))
        elif kind in ("field_declaration", "constant_declaration"):
            for decl in child.children_by_field_name("declarator"):
                em.add("variable", _text(decl.child_by_field_name("name")), scope, child)


# ---------------------------------------------------------------- Go


def _go(root: Node, em: _Emit) -> None:
    for child in root.named_children:
        kind = child.type
        if kind == "function_declaration":
            em.add("function", _text(child.child_by_field_name("name")), None, child,
                   child.child_by_field_name("body"))
        elif kind == "method_declaration":
            em.add("function", _text(child.child_by_field_name("name")),
                   _go_receiver(child.child_by_field_name("receiver")) or None, child,
                   child.child_by_field_name("body"))
        elif kind == "type_declaration":
            specs = [s for s in child.named_children if s.type in ("type_spec", "type_alias")]
            for spec in specs:
                em.add("class", _text(spec.child_by_field_name("name")), None,
                       child if len(specs) == 1 else spec)
        elif kind in ("var_declaration", "const_declaration"):
            # The whole `const ( ... )` group is the statement each name belongs to.
            for spec in _go_specs(child):
                for name in spec.children_by_field_name("name"):
                    em.add("variable", _text(name), None, child)


def _go_specs(node: Node) -> list[Node]:
    out: list[Node] = []
    for child in node.named_children:
        if child.type in ("var_spec", "const_spec"):
            out.append(child)
        elif child.type in ("var_spec_list", "const_spec_list"):
            out.extend(_go_specs(child))
    return out


def _go_receiver(params: Node | None) -> str:
    """`(t *Tree[K])` -> `Tree`."""
    if params is None or not params.named_child_count:
        return ""
    typ = params.named_children[0].child_by_field_name("type")
    while typ is not None and typ.type in ("pointer_type", "generic_type", "parenthesized_type"):
        inner = typ.child_by_field_name("type")
        typ = inner if inner is not None else (typ.named_children[0] if typ.named_child_count
                                               else None)
    return _text(typ)


def _extract_python(root: Node, em: _Emit) -> None:
    _python(root, None, em, True)


def _extract_js(root: Node, em: _Emit) -> None:
    _js(root, None, em)


def _extract_java(root: Node, em: _Emit) -> None:
    _java(root, None, em)


EXTRACTORS: dict[str, Callable[[Node, _Emit], None]] = {
    "python": _extract_python, "javascript": _extract_js, "typescript": _extract_js,
    "tsx": _extract_js, "java": _extract_java, "go": _go,
}

EXTRACTOR_VERSION = "1"
"""Bumped when what the walkers produce changes; part of the on-disk parse cache key."""


def extract(root: Node, src: bytes, language: str) -> list[Definition]:
    em = _Emit(src)
    EXTRACTORS[language](root, em)
    em.out.sort(key=lambda d: (d.start_line, -d.end_line))
    return [d for d in em.out if d.name]
