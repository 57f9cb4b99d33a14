"""Read-only access to esm's HDF5 files (latency datasets, schema v1 to v3; model files, esm-model v1).

An independent reader of the formats that src/dataset/ and src/train/model_file.cpp write (the
field-by-field contract is docs/dataset.md). Every problem with an input file becomes InputError,
which the scripts print as one line and turn into exit code 2, as `esm` does.
"""
import json
import os
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field

import h5py
import numpy as np

DATASET_SCHEMA_VERSION = 3  # 3: /results.eager_ms, graph_ms; 2: /drift.threshold; 1 and 2 read too
MODEL_FORMAT = "esm-model"
MODEL_SCHEMA_VERSION = 2  # 2 adds /domain, /intervals and /cv/coverage_90 (read: /cv only)
STATUS_PENDING, STATUS_DONE, STATUS_FAILED = 0, 1, 2  # /results.status
DRIFT_VERDICTS = {0: "ok", 1: "drift", 2: "remeasured", 3: "gave_up", 4: "common_mode", 5: "transient"}
LABEL_FIELDS = {"trimmed": "trimmed_mean_ms", "normalised": "normalised", "graph": "graph_ms", "eager": "eager_ms"}
# a model file's "label" attribute -> the dataset label in ms its predictions compare with (a
# normalised model predicts ms through its reference, so it compares with the trimmed mean)
MODEL_LABELS = {"trimmed_mean": "trimmed", "normalised": "trimmed", "graph": "graph", "eager": "eager"}


class InputError(Exception):
    """A missing or unusable input file or option (printed as one line, exit code 2)."""


def run_script(parser, action, argv=None):
    """Parses argv with `parser` and runs action(args). An InputError becomes one line on stderr
    ("PROG: error: ...", as argparse and esm write theirs) and exit code 2."""
    args = parser.parse_args(argv)
    try:
        action(args)
    except InputError as e:
        print(f"{parser.prog}: error: {e}", file=sys.stderr)
        return 2
    return 0


def text(value):
    """An HDF5 string (bytes, numpy bytes or str) as str."""
    if isinstance(value, (bytes, np.bytes_)):
        return value.decode("utf-8", "replace")
    return str(value)


def _open(path, what):
    if not os.path.isfile(path):
        raise InputError(f"{what} '{path}' does not exist")
    if not h5py.is_hdf5(path):
        raise InputError(f"'{path}' is not an HDF5 file (expected an esm {what})")
    try:
        return h5py.File(path, "r")
    except OSError as e:
        raise InputError(f"cannot open '{path}': {e}") from None


def _columns(node):
    """A table stored as a compound dataset or as a group of equally long 1-D datasets -> dict."""
    if isinstance(node, h5py.Dataset):
        rows = node[()]
        if rows.dtype.names is None:
            raise InputError(f"{node.name} is not a table")
        return {name: rows[name] for name in rows.dtype.names}
    columns = {}
    for name, child in node.items():
        if isinstance(child, h5py.Dataset) and child.ndim == 1:
            columns[name] = child[()]
    return columns


@dataclass
class Dataset:
    """The parts of a latency dataset the analysis scripts use; arrays are row-aligned with /archs."""

    path: str
    attrs: dict
    text: np.ndarray          # canonical arch texts (str)
    arch_id: np.ndarray       # uint64
    depth: np.ndarray         # int32, = the depth bin
    results: np.ndarray       # /results rows (structured array)
    drift: np.ndarray         # /drift rows (structured array, possibly empty)
    loop: dict = field(default_factory=dict)  # /loop columns, {} when the file has none

    @property
    def space(self):
        return text(self.attrs.get("space", ""))

    @property
    def done(self):
        return self.results["status"] == STATUS_DONE

    def label(self, which="trimmed"):
        """Per-row label ('trimmed', 'graph' or 'eager' ms, or 'normalised'); NaN unless done,
        finite and positive, and NaN throughout for graph/eager in files before schema 3."""
        name = LABEL_FIELDS[which]
        if name not in self.results.dtype.names:
            return np.full(len(self.results), np.nan)
        values = self.results[name].astype(float)
        usable = self.done & np.isfinite(values) & (values > 0)
        return np.where(usable, values, np.nan)


def default_label(ds):
    """esm train's default (--label auto): 'graph' when a done row has a graph-replay latency."""
    return "graph" if np.isfinite(ds.label("graph")).any() else "trimmed"


def read_dataset(path):
    """Reads an esm latency dataset. Raises InputError for a missing file or a non-esm one."""
    with _open(path, "dataset") as f:
        if "schema_version" not in f.attrs:
            raise InputError(f"'{path}' is not an esm dataset (no schema_version; is it a model file?)")
        version = int(f.attrs["schema_version"])
        if version > DATASET_SCHEMA_VERSION:
            raise InputError(f"dataset '{path}' has schema version {version}; this script reads up to "
                             f"{DATASET_SCHEMA_VERSION}")
        for name in ("archs/text", "archs/id", "archs/depth", "results"):
            if name not in f:
                raise InputError(f"dataset '{path}' has no /{name}")
        texts = np.array([text(t) for t in f["archs/text"][()]], dtype=object)
        results = f["results"][()]
        if len(results) != len(texts):
            raise InputError(f"dataset '{path}': /results has {len(results)} rows, /archs {len(texts)}")
        drift = f["drift"][()] if "drift" in f else np.zeros(0, dtype=[("time_unix_s", "f8")])
        loop = _columns(f["loop"]) if "loop" in f else {}
        return Dataset(path=path, attrs=dict(f.attrs), text=texts, arch_id=f["archs/id"][()],
                       depth=f["archs/depth"][()], results=results, drift=drift, loop=loop)


@dataclass
class Model:
    """A model file's provenance and cross-validation table."""

    path: str
    attrs: dict
    cv: dict  # column -> array; "model" decoded to str, "bin" = -1 for the overall row

    @property
    def encoding(self):
        return text(self.attrs.get("encoding", "?"))

    @property
    def space(self):
        return text(self.attrs.get("space", ""))

    @property
    def kinds(self):
        """Model names of the CV table in file order (kinds, then ensemble rows)."""
        seen = []
        for name in self.cv["model"]:
            if name not in seen:
                seen.append(name)
        return seen


def read_model(path):
    """Reads an esm model file's attributes and /cv table. Raises InputError for anything else."""
    with _open(path, "model file") as f:
        if text(f.attrs.get("format", "")) != MODEL_FORMAT:
            raise InputError(f"'{path}' is not an esm model file (is it a dataset?)")
        version = int(f.attrs.get("model_schema_version", 0))
        if version > MODEL_SCHEMA_VERSION:
            raise InputError(f"model file '{path}' has schema version {version}; this script reads up to "
                             f"{MODEL_SCHEMA_VERSION}")
        if "cv" not in f:
            raise InputError(f"model file '{path}' has no /cv table")
        cv = _columns(f["cv"])
        for name in ("model", "bin", "within_10"):
            if name not in cv:
                raise InputError(f"model file '{path}': /cv has no column '{name}'")
        cv["model"] = np.array([text(m) for m in cv["model"]], dtype=object)
        return Model(path=path, attrs=dict(f.attrs), cv=cv)


def default_esm():
    """The esm executable: $ESM, else build/src/esm of this checkout."""
    repo = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    return os.environ.get("ESM") or os.path.join(repo, "build", "src", "esm")


def predict(esm, model_path, archs):
    """Latency (ms) and ensemble spread (ms) of each arch text, from `esm predict --json`."""
    if not (os.path.isfile(esm) and os.access(esm, os.X_OK)):
        raise InputError(f"esm executable '{esm}' not found (build it, or pass --esm PATH / set ESM)")
    with tempfile.NamedTemporaryFile("w", suffix=".txt", prefix="esm-archs-") as listing:
        listing.write("".join(a + "\n" for a in archs))
        listing.flush()
        done = subprocess.run([esm, "predict", "--model", model_path, "--archs", listing.name, "--json"],
                              capture_output=True, text=True, check=False)
    if done.returncode != 0:
        first = (done.stderr.strip().splitlines() or ["no message"])[0]
        raise InputError(f"esm predict --model {model_path} failed (exit {done.returncode}): {first}")
    rows = [json.loads(line) for line in done.stdout.splitlines() if line.strip()]
    if len(rows) != len(archs):
        raise InputError(f"esm predict returned {len(rows)} predictions for {len(archs)} archs")
    return (np.array([r["latency_ms"] for r in rows], dtype=float),
            np.array([r["std_ms"] for r in rows], dtype=float))
