"""The registry and the interface every transform module shares (transforms/__init__.py).

The interface is read from the files themselves with ``ast`` (what a new contributor
reads), and the registry is compared with the folder, so a module left out of the
registry, or one without its docstring, ID, ``apply`` or test module, fails here.
"""

from __future__ import annotations

import ast
import inspect

from conftest import REPO

from jhub_ck8s.transforms import REGISTRY

TRANSFORMS = REPO / "transforms"
INTERFACE = {"ID", "apply", "AFTER_HUB_WRITE_BACK"}  # as the registry's docstring lists it


def _modules() -> dict[str, ast.Module]:
    return {
        path.stem: ast.parse(path.read_text(), str(path))
        for path in sorted(TRANSFORMS.glob("*.py")) if path.name != "__init__.py"
    }


def _assigned(tree: ast.Module) -> dict[str, ast.expr]:
    return {
        target.id: node.value
        for node in tree.body if isinstance(node, ast.Assign)
        for target in node.targets if isinstance(target, ast.Name)
    }


def test_every_module_of_the_folder_is_registered_once():
    registered = sorted(module.__name__.rpartition(".")[2] for module in REGISTRY.values())
    assert registered == sorted(_modules())


def test_every_transform_has_the_documented_interface():
    ids = []
    for name, tree in _modules().items():
        doc = ast.get_docstring(tree) or ""
        assert "Guarantees" in doc or "guarantee" in doc.lower(), f"{name}: the docstring says what it guarantees"
        assert "Before" in doc and "After" in doc, f"{name}: the docstring shows a before/after example"
        values = _assigned(tree)
        assert isinstance(values.get("ID"), ast.Constant), f"{name}: ID is a literal"
        ids.append(values["ID"].value)
        write_back = values.get("AFTER_HUB_WRITE_BACK")
        assert write_back is None or (isinstance(write_back, ast.Constant) and isinstance(write_back.value, bool)), name
        (apply,) = [n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == "apply"]
        assert [a.arg for a in apply.args.args] == ["stream", "settings"], name
    assert len(set(ids)) == len(ids)


def test_the_registry_docstring_lists_the_interface():
    import jhub_ck8s.transforms as registry

    doc = inspect.getdoc(registry) or ""
    for name in INTERFACE:
        assert f"``{name}" in doc, name


def test_patches_sees_the_hub_config_written_back_and_no_other_transform_asks_to():
    wanting = sorted(t for t, m in REGISTRY.items() if getattr(m, "AFTER_HUB_WRITE_BACK", False))
    assert wanting == ["patches"]


def test_every_transform_has_its_own_test_module():
    for name in _modules():
        assert (REPO / "tests" / f"test_{name}.py").is_file(), f"tests/test_{name}.py"
