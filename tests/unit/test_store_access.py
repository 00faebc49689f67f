"""MongoDB is reached only through a store module, never from use-case, HTTP or domain code.

A store module is a ``store.py``, a ``*_store.py``, a ``repository.py`` or a
module under a ``store/`` package. Anywhere else under ``services/`` a module
may not subscript a store (``store[...]``, ``self._store[...]``,
``runtime.store[...]``, ``db[...]``), call ``.collection(...)``, or call a
collection method on either or on a name one was put in. Method names alone
would catch a ``str.find``; every collection starts as one of those two
expressions, so the check looks at them and names the file and line of each.
"""

from __future__ import annotations

import ast
from pathlib import Path

SERVICES = Path(__file__).resolve().parents[2] / "services"

COLLECTION_METHODS = frozenset(
    {
        "find",
        "find_one",
        "insert_one",
        "insert_many",
        "update_one",
        "update_many",
        "replace_one",
        "delete_one",
        "delete_many",
        "aggregate",
        "count_documents",
        "estimated_document_count",
        "find_one_and_update",
        "find_one_and_replace",
        "find_one_and_delete",
        "bulk_write",
        "distinct",
        "create_index",
        "watch",
    }
)
# What a store is called where it is held: ``store``, ``self._store``, ``runtime.store``, ``db``.
STORE_NAMES = frozenset({"store", "db"})


def is_store_module(path: Path) -> bool:
    """Say whether ``path`` (relative to the repository) is a store module."""
    return (
        path.name in {"store.py", "repository.py"}
        or path.name.endswith("_store.py")
        or "store" in path.parts[:-1]
    )


def _held_name(node: ast.expr) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    return None


def _is_store(node: ast.expr) -> bool:
    name = _held_name(node)
    return name is not None and name.lstrip("_") in STORE_NAMES


def _is_collection(node: ast.expr) -> bool:
    """Say whether ``node`` is ``<store>[...]`` or ``<anything>.collection(...)``."""
    if isinstance(node, ast.Subscript):
        return _is_store(node.value)
    return (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == "collection"
    )


def offences(source: str) -> list[tuple[int, str]]:
    """Return each line of ``source`` that reaches a collection, with what it does there."""
    tree = ast.parse(source)
    # Names a collection was put in (``contacts = store[CONTACTS]``) are collections too.
    aliases = {
        target.id
        for node in ast.walk(tree)
        if isinstance(node, ast.Assign) and _is_collection(node.value)
        for target in node.targets
        if isinstance(target, ast.Name)
    }
    found: dict[int, str] = {}
    # ast.walk goes outside in: a method call is named before the store[...] it is on.
    for node in ast.walk(tree):
        if not isinstance(node, ast.expr):
            continue
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr in COLLECTION_METHODS
            and (
                _is_collection(node.func.value)
                or (isinstance(node.func.value, ast.Name) and node.func.value.id in aliases)
            )
        ):
            found.setdefault(node.lineno, f"{ast.unparse(node.func.value)}.{node.func.attr}(...)")
        elif _is_collection(node):
            found.setdefault(node.lineno, ast.unparse(node))
    return sorted(found.items())


def test_the_check_sees_store_access_and_nothing_else() -> None:
    source = """
async def f(store, runtime, self, text, parts):
    await store[USERS].find_one({"_id": 1})
    cursor = self._store[X].find({}).sort("at", 1)
    calls = runtime.store[CALLS]
    await calls.delete_many({})
    await db.collection("cases").update_one({}, {})
    text.find("x")
    parts[0].find("x")
    found = calls.find
    other.find({})
    parts.store.get("x")
    self._cases.find(case_id)
"""
    assert offences(source) == [
        (3, "store[USERS].find_one(...)"),
        (4, "self._store[X].find(...)"),
        (5, "runtime.store[CALLS]"),
        (6, "calls.delete_many(...)"),
        (7, "db.collection('cases').update_one(...)"),
    ]


def test_store_modules_are_the_only_ones_reaching_mongodb() -> None:
    root = SERVICES.parent
    found: list[str] = []
    for path in sorted(SERVICES.rglob("*.py")):
        relative = path.relative_to(root)
        if is_store_module(relative):
            continue
        found += [
            f"{relative.as_posix()}:{line}: {what}"
            for line, what in offences(path.read_text(encoding="utf-8"))
        ]
    assert not found, "MongoDB reached outside a store module:\n" + "\n".join(found)
