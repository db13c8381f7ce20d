"""The house's one-way streets, read from the source with ``ast`` (no module is imported).

Every ``import`` and ``from … import`` of the project's own modules counts, including those inside functions, so a
circle cannot hide behind a late import. Capabilities depend one way: portal, alerts and notifications may use
chart, board and orders, which use models, which use clinical, patients and infusion_site.
"""

import ast
from collections import defaultdict
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("infusion_site", "patients", "visits")

# Lower layers never import higher ones. Modules not named here (admin, apps, tasks, management commands,
# template tags, demo builders) sit on top and may use anything below them.
LAYERS = {
    "visits.clinical": 0,
    "visits.models": 1,
    "visits.orders": 2,
    "visits.board": 2,
    "visits.chart": 2,
    "visits.alerts": 3,
    "visits.notifications": 4,
    "visits.portal": 5,
}


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def project_modules() -> dict[str, Path]:
    return {
        module_name(path): path
        for package in PACKAGES
        for path in (ROOT / package).rglob("*.py")
        if "migrations" not in path.parts
    }


def imports_of(name: str, path: Path, known: set[str]) -> set[str]:
    """The project modules that ``name`` imports, wherever in the file the import stands."""
    is_package = path.name == "__init__.py"
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = name.split(".") if is_package else name.split(".")[:-1]
                anchor = anchor[: len(anchor) - node.level + 1]
                base = ".".join(anchor + ([base] if base else []))
            # ``from package import module`` imports the module; ``from module import name`` the module itself.
            targets = [f"{base}.{alias.name}" if f"{base}.{alias.name}" in known else base for alias in node.names]
        else:
            continue
        found.update(target for target in targets if target in known and target != name)
    return found


def import_graph(modules: dict[str, Path]) -> dict[str, set[str]]:
    known = set(modules)
    return {name: imports_of(name, path, known) for name, path in modules.items()}


def find_circle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import circle as a list of modules (first == last), or None."""
    state: dict[str, int] = defaultdict(int)  # 0 unseen, 1 on the current path, 2 done
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for target in sorted(graph.get(node, ())):
            if state[target] == 1:
                return path[path.index(target) :] + [target]
            if state[target] == 0 and (circle := visit(target)):
                return circle
        path.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if state[node] == 0 and (circle := visit(node)):
            return circle
    return None


def layer_of(module: str) -> int | None:
    for prefix, layer in LAYERS.items():
        if module == prefix or module.startswith(prefix + "."):
            return layer
    return None


def layer_violations(graph: dict[str, set[str]]) -> list[str]:
    wrong = []
    for source, targets in graph.items():
        for target in targets:
            if source.startswith("patients") and target.startswith("visits"):
                wrong.append(f"{source} imports {target}: patients never uses visits")
            if source.startswith("infusion_site") and target.startswith(("patients", "visits")):
                wrong.append(f"{source} imports {target}: infusion_site is shared by the apps, not built on them")
            low, high = layer_of(source), layer_of(target)
            if low is not None and high is not None and high > low:
                wrong.append(f"{source} imports {target}, which stands above it")
            if low is not None and low > 0 and target == "visits.tasks":
                wrong.append(f"{source} imports visits.tasks: services ask for work by task name")
    return sorted(wrong)


@pytest.fixture(scope="module")
def graph():
    return import_graph(project_modules())


def test_no_module_of_the_project_imports_another_in_a_circle(graph):
    assert find_circle(graph) is None


def test_capabilities_depend_one_way_and_patients_never_on_visits(graph):
    assert layer_violations(graph) == []


def test_services_never_import_the_celery_entry_points(graph):
    assert [name for name, targets in graph.items() if "patients.tasks" in targets or "visits.tasks" in targets] == []


# The checker itself: a circle put back, even through an import inside a function, is found.


def write(root: Path, files: dict[str, str]) -> dict[str, Path]:
    for relative, text in files.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return {
        ".".join(Path(relative).with_suffix("").parts).removesuffix(".__init__"): root / relative for relative in files
    }


def test_a_circle_through_an_import_inside_a_function_is_found(tmp_path):
    modules = write(
        tmp_path,
        {
            "visits/__init__.py": "",
            "visits/chart/__init__.py": "",
            "visits/chart/services.py": "def send():\n    from visits.notifications import services\n",
            "visits/notifications/__init__.py": "",
            "visits/notifications/services.py": "from visits.chart.services import send\n",
        },
    )
    graph = import_graph(modules)
    assert find_circle(graph) == ["visits.chart.services", "visits.notifications.services", "visits.chart.services"]
    assert layer_violations(graph) == [
        "visits.chart.services imports visits.notifications.services, which stands above it"
    ]


def test_from_package_import_module_and_relative_imports_are_edges(tmp_path):
    modules = write(
        tmp_path,
        {
            "visits/__init__.py": "",
            "visits/alerts/__init__.py": "",
            "visits/alerts/registry.py": "from . import sources\n",
            "visits/alerts/sources.py": "from visits.alerts import registry\n",
            "patients/__init__.py": "",
            "patients/services.py": "import visits.alerts.registry\n",
        },
    )
    graph = import_graph(modules)
    assert graph["visits.alerts.sources"] == {"visits.alerts.registry"}
    assert graph["visits.alerts.registry"] == {"visits.alerts.sources"}
    assert find_circle(graph) == ["visits.alerts.registry", "visits.alerts.sources", "visits.alerts.registry"]
    assert "patients.services imports visits.alerts.registry: patients never uses visits" in layer_violations(graph)


def test_the_project_is_read_whole(graph):
    # A walk that found nothing would pass every test above; this one cannot.
    assert {"visits.chart.infusion.services", "visits.notifications.due", "patients.services"} <= set(graph)
    assert "visits.models" in graph["visits.chart.infusion.services"]
