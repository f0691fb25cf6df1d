"""What the Python says: ML code (X-1), data preparation in modules (DM-b), feature-code tests (DM-i).

Everything comes from the shared AST index. Each detection needs a word the probe declares as a
python token (a library name, a call name, ``def test``), so the result does not depend on which
other probes happened to widen the index.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import TYPE_CHECKING, Iterable, Optional

from scanner.facts.python import imports_of
from scanner.models import Strength
from scanner.patterns import lazy

from ._repo_models import DataPrep, FeatureTests, MlCode

if TYPE_CHECKING:
    from scanner.facts.python import Call, PyFile, PythonIndex
    from scanner.models import Evidence
    from scanner.probe import ProbeContext

MAX_PATHS = 20

# top-level import -> library name reported
ML_LIBRARIES: dict[str, str] = {
    "sklearn": "sklearn", "torch": "torch", "torchvision": "torch", "torchaudio": "torch", "torchtext": "torch",
    "tensorflow": "tensorflow", "keras": "keras", "tf_keras": "keras", "xgboost": "xgboost",
    "lightgbm": "lightgbm", "catboost": "catboost", "transformers": "transformers",
    "sentence_transformers": "sentence_transformers", "jax": "jax", "flax": "jax", "statsmodels": "statsmodels",
    "prophet": "prophet", "fbprophet": "prophet", "lightning": "lightning", "pytorch_lightning": "lightning",
    "fastai": "fastai", "mxnet": "mxnet", "paddle": "paddle", "gensim": "gensim", "sktime": "sktime",
    "darts": "darts", "autogluon": "autogluon", "h2o": "h2o", "pycaret": "pycaret", "spacy": "spacy",
}
ML_TOKENS = tuple(sorted({"sklearn", "torch", "tensorflow", "keras", "xgboost", "lightgbm", "catboost",
                          "transformers", "jax", "flax", "statsmodels", "prophet", "lightning", "fastai",
                          "mxnet", "paddle", "gensim", "sktime", "darts", "autogluon", "h2o", "pycaret", "spacy"}))

_FRAME_LIBS = ("pandas", "polars", "pyspark", "dask", "modin", "numpy", "pyarrow", "cudf", "vaex")
_READ_PREFIXES = (
    "pandas.read_", "polars.read_", "polars.scan_", "dask.dataframe.read_", "modin.pandas.read_",
    "pyarrow.parquet.read_", "pyarrow.csv.read_", "pyarrow.dataset.dataset", "numpy.load", "numpy.genfromtxt",
    "datasets.load_dataset", "duckdb.", "sqlite3.connect", "sqlalchemy.create_engine", "psycopg2.connect",
    "psycopg.connect", "pyodbc.connect", "snowflake.connector.connect", "google.cloud.bigquery.Client",
)
_WRITE_ATTRS = frozenset({
    "to_csv", "to_parquet", "to_feather", "to_excel", "to_sql", "to_json", "to_pickle", "to_hdf",
    "write_csv", "write_parquet", "sink_parquet", "saveAsTable", "insertInto",
})
_WRITE_NAMES = ("numpy.save", "numpy.savez", "numpy.savez_compressed", "numpy.savetxt", "pyarrow.parquet.write_table")
_CONNECTIONS = frozenset({"connect", "create_engine", "Client"})
_DATA_FILE = lazy(r"\.(?:csv|tsv|parquet|jsonl|xlsx|feather)$", re.IGNORECASE)
# What makes a file worth parsing for this probe: an ML or data import, a data read/write call,
# a literal data file opened, or a test. Selective on purpose (see imports_of).
PYTHON_PREFILTER = (
    *imports_of(*ML_TOKENS, "pyspark", "dask", "modin", "polars", "pyarrow", "duckdb", "sqlite3", "sqlalchemy",
                "psycopg", "psycopg2", "pyodbc", "snowflake", "datasets", "google.cloud.bigquery"),
    r"\.(?:read|scan)_(?:csv|parquet|json|sql|excel|feather|table|orc|hdf|pickle)\b",
    r"\.to_(?:csv|parquet|feather|excel|sql|json|pickle|hdf)\b", "saveAsTable", "insertInto",
    r"np\.(?:load|save|savez|savetxt|genfromtxt)\b", r"numpy\.(?:load|save|savez|savetxt|genfromtxt)\b",
    "load_dataset",
    r"""open\([ \t]*[rbuf]*['"][^'"\n]*\.(?:csv|tsv|parquet|jsonl|xlsx|feather)['"]""",
    r"open\([ \t]*\r?$",  # the call goes on over lines: needles are line-local, so parse to see
    "def test", "from invoke import", "import invoke",
)

_TEST_PATH = lazy(r"(?:^|/)(?:tests?|testing)/|(?:^|/)test_[^/]*\.py$|_test\.py$")
_NOT_PREP = lazy(r"(?:^|/)(?:docs?|examples?|notebooks?|benchmarks?)/|(?:^|/)(?:setup|conftest|noxfile|tasks)\.py$")
_ML_IMPORT_TEXT = lazy(
    r"(?:^|[\s\"'])(?:import|from)\s+(?:" + "|".join(sorted(ML_LIBRARIES)) + r")\b", re.MULTILINE
)
_FEATURE_NAME = lazy(r"feature|transform|preprocess|process|clean|data|etl|prep|encod", re.IGNORECASE)


def is_test(path: str) -> bool:
    return bool(_TEST_PATH.search(path))


def ml_libraries(pyfile: "PyFile") -> list[tuple[str, int]]:
    """(library, line) of each ML import of the file, in source order."""
    found = []
    for imp in pyfile.imports:
        library = ML_LIBRARIES.get(imp.module.split(".")[0])
        if library:
            found.append((library, imp.line))
    return found


def ml_files(index: "PythonIndex") -> dict[str, list[tuple[str, int]]]:
    found: dict[str, list[tuple[str, int]]] = {}
    for path in sorted(index.files):
        libraries = ml_libraries(index.files[path])
        if libraries:
            found[path] = libraries
    return found


def _is_entrypoint(pyfile: "PyFile") -> bool:
    name = pyfile.path.rsplit("/", 1)[-1]
    return not is_test(pyfile.path) and (pyfile.has_main_guard or name.startswith("train"))


def _citation_rank(path: str) -> tuple[bool, bool, str]:
    """Cite the project's own training script first, examples and docs last."""
    name = path.rsplit("/", 1)[-1]
    return bool(_NOT_PREP.search(path)), not name.startswith("train"), path


def _ml_mentioned_in_unparsed(ctx: "ProbeContext", index: "PythonIndex") -> list[str]:
    """Python files that could not be parsed but import an ML library by their text."""
    return sorted(
        path for path, pyfile in index.files.items()
        if not pyfile.parsed and _ML_IMPORT_TEXT.search(ctx.facts.text(path) or "")
    )


def collect_ml_code(ctx: "ProbeContext") -> Iterable["Evidence"]:
    index = ctx.facts.python
    found = ml_files(index)
    if not found:
        broken = _ml_mentioned_in_unparsed(ctx, index)
        if broken:
            reason = ctx.facts.problems.get(broken[0], "could not be parsed")
            yield ctx.unknown("repo.ml_code", f"{broken[0]} imports an ML library but {reason}", path=broken[0])
        return
    modules = [p for p in found if not index.files[p].notebook]
    notebooks = [p for p in found if index.files[p].notebook]
    entrypoints = [p for p in modules if _is_entrypoint(index.files[p])]
    cited = min(entrypoints or modules or notebooks, key=_citation_rank)
    line = found[cited][0][1]
    attrs = MlCode(
        modules=len(modules),
        notebooks=len(notebooks),
        libraries=sorted({lib for libs in found.values() for lib, _ in libs}),
        notebook_only=not modules,
        entrypoints=entrypoints[:MAX_PATHS],
    )
    downgrades = ["ML code only in notebooks"] if not modules else []
    yield ctx.evidence(
        "repo.ml_code", attrs, path=cited, lines=(line, line),
        strength=Strength.mention if downgrades else Strength.configured, downgrades=downgrades,
    )


# -- data preparation ---------------------------------------------------------------------------


def io_calls(pyfile: "PyFile") -> tuple[list["Call"], list["Call"]]:
    """(reads, writes) of data in one module: dataframe/Spark/SQL I/O and open() on data files."""
    reads: list["Call"] = []
    writes: list["Call"] = []
    frames = any(pyfile.imports_module(lib) for lib in _FRAME_LIBS)
    spark = pyfile.imports_module("pyspark")
    for call in pyfile.calls:
        name = call.name
        if name.startswith(_READ_PREFIXES):
            reads.append(call)
        elif name.startswith(_WRITE_NAMES) or (frames and call.attr in _WRITE_ATTRS):
            writes.append(call)
        elif spark and (".read." in name or name.endswith(".read.load") or call.attr in ("sql", "table")):
            reads.append(call)
        elif spark and ".write." in name:
            writes.append(call)
        elif name == "open" and call.literal_args and isinstance(call.literal_args[0], str) and _DATA_FILE.search(call.literal_args[0]):
            mode = call.literal_args[1] if len(call.literal_args) > 1 else call.kwarg("mode", "r")
            (writes if isinstance(mode, str) and any(c in mode for c in "wax") else reads).append(call)
    return _one_per_line(reads), _one_per_line(writes)


def _one_per_line(calls: list["Call"]) -> list["Call"]:
    """Chained calls (``df.write.mode(...).parquet(...)``) are one I/O, not two."""
    seen: set[int] = set()
    return [c for c in calls if not (c.line in seen or seen.add(c.line))]


def data_prep_modules(index: "PythonIndex") -> dict[str, tuple[list["Call"], list["Call"]]]:
    found = {}
    for path in sorted(index.files):
        pyfile = index.files[path]
        if pyfile.notebook or not pyfile.parsed or is_test(path) or _NOT_PREP.search(path):
            continue
        reads, writes = io_calls(pyfile)
        if reads or writes:
            found[path] = (reads, writes)
    return found


def collect_data_prep(
    ctx: "ProbeContext", modules: dict[str, tuple[list["Call"], list["Call"]]], ml: set[str]
) -> Iterable["Evidence"]:
    if not modules:
        return
    # cite a module that reads data and is not the training code itself, when there is one
    cited_path = min(modules, key=lambda p: (not modules[p][0], p in ml, p))
    reads, writes = modules[cited_path]
    # cite a real read (pd.read_sql) before the connection it goes through (create_engine)
    call = min(reads or writes, key=lambda c: (c.attr in _CONNECTIONS, c.line))
    attrs = DataPrep(
        modules=len(modules),
        paths=list(modules)[:MAX_PATHS],
        reads=sum(len(r) for r, _ in modules.values()),
        writes=sum(len(w) for _, w in modules.values()),
    )
    yield ctx.evidence("repo.data_prep", attrs, path=cited_path, lines=(call.line, call.end_line))


# -- feature tests ------------------------------------------------------------------------------


@lru_cache(maxsize=4)
def _code_modules(modules: tuple[str, ...]) -> dict[str, str]:
    """The module map of the code that is not tests; the same list gives the same (shared,
    read-only) map, e.g. for both scans of a diff."""
    return module_map(p for p in modules if not is_test(p))


def module_map(paths: Iterable[str]) -> dict[str, str]:
    """Dotted module name -> path. Besides the repository-root name, each file is also known by
    its name from its top-level package (the highest folder chain with ``__init__.py``), so
    ``pipelines/training/src/pkg/x.py`` is ``pkg.x`` as its tests import it."""
    paths = list(paths)
    packages = {p.rsplit("/", 1)[0] for p in paths if p.endswith("/__init__.py")}
    found: dict[str, str] = {}
    for path in paths:
        dotted = path[:-3].replace("/", ".")
        if dotted.endswith(".__init__"):
            dotted = dotted[: -len(".__init__")]
        found.setdefault(dotted, path)
        parts = path.split("/")
        top = len(parts) - 1  # walks up to the index of the topmost package folder
        while top > 0 and "/".join(parts[:top]) in packages:
            top -= 1
        if 0 < top < len(parts) - 1:
            found.setdefault(".".join(dotted.split(".")[top:]), path)
        if "src" in parts[:-1]:  # src layout without __init__.py files (namespace packages)
            cut = len(parts) - 1 - parts[:-1][::-1].index("src")
            found.setdefault(".".join(dotted.split(".")[cut:]), path)
    return found


def resolve(module: str, modules: dict[str, str]) -> Optional[str]:
    """The project file an import refers to (``pkg.mod.func`` -> pkg/mod.py), or None."""
    parts = module.split(".")
    for end in range(len(parts), 0, -1):
        path = modules.get(".".join(parts[:end]))
        if path:
            return path
    return None


def _feature_module(path: str, prep: set[str]) -> bool:
    """Feature code: named like it (features.py, preprocessing/...), or data prep that is not ML code.

    ``prep`` holds data-prep modules that import no ML library, so a test of train.py, which
    merely reads its CSV, is not counted as a feature test.
    """
    if is_test(path):
        return False
    tail = "/".join(path[:-3].split("/")[-2:])  # the module and its package, not the whole path
    return path in prep or bool(_FEATURE_NAME.search(tail))


def collect_feature_tests(ctx: "ProbeContext", prep: set[str]) -> Iterable["Evidence"]:
    index = ctx.facts.python
    modules = _code_modules(tuple(index.modules))
    tested: set[str] = set()
    test_files: list[tuple[str, int]] = []
    for path in sorted(index.files):
        pyfile = index.files[path]
        if pyfile.notebook or not is_test(path) or path.rsplit("/", 1)[-1] == "conftest.py":
            continue
        first_line = None
        for imp in pyfile.imports:
            target = resolve(imp.module, modules)
            if target and _feature_module(target, prep):
                tested.add(target)
                first_line = imp.line if first_line is None else first_line
        if first_line is not None:
            test_files.append((path, first_line))
    if not test_files:
        return
    path, line = test_files[0]
    attrs = FeatureTests(test_files=len(test_files), modules_tested=sorted(tested)[:MAX_PATHS])
    yield ctx.evidence("repo.feature_tests", attrs, path=path, lines=(line, line))
