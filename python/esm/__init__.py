"""esm from Python: search spaces, samplers, the network IR, the latency predictor, datasets as
pandas DataFrames, single-architecture benchmarks and ONNX export.

Every function calls esm's C++ libraries (the extension module ``esm._esm``); the results are the
same as the ``esm`` command line tool's. Bad input (an architecture text, a space name, an option
value, an unusable file) raises :class:`ValueError` whose message names the offending token, like
the CLI's one-line error (docs/cli-errors.md).

    >>> import esm
    >>> archs = esm.sample("ofa-mbv3", 4, seed=1)
    >>> esm.describe(archs[0])["depth"]
    >>> p = esm.Predictor.load("mbv3.model.h5")
    >>> p.predict(archs).latency_ms
"""
from __future__ import annotations

import json
import os
from dataclasses import dataclass
from typing import Any, Dict, List, Mapping, Optional, Sequence, Tuple

import numpy as np

from . import _esm

__all__ = [
    "Dataset",
    "Prediction",
    "Predictor",
    "bench",
    "canonical",
    "describe",
    "from_ofa",
    "make_input",
    "open_dataset",
    "parameters",
    "reference_forward",
    "sample",
    "spaces",
    "to_ofa",
    "to_onnx",
    "version",
]

#: Seed of the deterministic weights and input every backend (and the reference executor) uses.
DEFAULT_WEIGHTS_SEED: int = _esm.default_weights_seed


def version() -> str:
    """esm's version and git commit, e.g. ``"0.1.0 (git abc1234)"`` (as ``esm --version``)."""
    return _esm.version()


def spaces() -> Dict[str, Dict[str, Any]]:
    """The search spaces, in ``esm spaces`` order: name -> {choices, variants, resolutions,
    depth_bins, gene_names, architectures (the space's size, a float)}."""
    return {s["name"]: s for s in _esm.spaces()}


def sample(
    space: str,
    count: int,
    policy: str = "balanced",
    seed: int = 0,
    width: Optional[str] = None,
    resolution: Optional[int] = None,
    bin_weights: Optional[Mapping[int, float]] = None,
) -> List[str]:
    """Canonical texts of ``count`` unique architectures, identical to
    ``esm sample --space SPACE --count COUNT --policy POLICY --seed SEED [--width W] [--resolution R]
    [--bin-weights D:W,...]``.

    policy: ``"uniform"``, ``"balanced"`` (equal count per depth bin) or ``"weighted"`` (needs
    ``bin_weights``, depth -> weight). Raises ValueError for an unknown space or policy, a count
    the space cannot supply, or bad constraints.
    """
    return _esm.sample(space, count, policy, seed, width, resolution,
                       None if bin_weights is None else {int(k): float(v) for k, v in bin_weights.items()})


def describe(arch: str, batch: int = 1) -> Dict[str, Any]:
    """The network ``arch`` denotes: the dict ``esm describe --json --arch ARCH --batch B`` prints
    (space, id, depth, batch, network: the IR with input, layers, blocks and totals)."""
    return json.loads(_esm.describe_json(arch, batch))


def canonical(arch: str) -> str:
    """The canonical text of an architecture (parse, then format); ValueError naming a bad token."""
    return _esm.canonical(arch)


def from_ofa(config: Mapping[str, Any], space: str = "ofa-mbv3", width: str = "w1.2") -> str:
    """The canonical esm text of a once-for-all arch config: ``{"ks", "e", "d", "r"}`` for
    ofa-mbv3, ``{"d", "e", "w", "r"}`` for ofa-resnet50 (``width`` "" there: it has no variants).
    An OFA config does not hold the width multiplier, so ``width`` says it. ValueError names the key
    and position of a missing, foreign or out-of-space value."""
    return _esm.from_ofa(dict(config), space, width)


def to_ofa(arch: str) -> Dict[str, Any]:
    """The once-for-all arch config of an esm architecture text. Slots beyond a stage's depth (OFA
    keeps a choice there) get OFA's smallest choice, so ``from_ofa(to_ofa(a)) == canonical(a)``."""
    return _esm.to_ofa(arch)


@dataclass(frozen=True)
class Prediction:
    """Predicted latencies of a batch of architectures, one entry per architecture."""

    latency_ms: np.ndarray  #: ensemble mean, ms (float64)
    std_ms: np.ndarray  #: spread of the ensemble's members, ms (float64)
    #: the model's conformal interval (Predictor.interval_level, 0.9) from the CV residuals of
    #: each arch's depth bin, ms (float64); NaN for model files without intervals
    lo_ms: np.ndarray
    hi_ms: np.ndarray
    #: per arch, True when nothing flags it as outside the training domain (bool array; True
    #: for every arch of a model file that predates the recorded domain)
    in_domain: np.ndarray
    #: the flagged archs only: index -> why it lies outside (width, resolution or depth bin not trained)
    reasons: Dict[int, List[str]]

    @property
    def out_of_domain(self) -> List[List[str]]:
        """Per arch, why it lies outside the training domain; an empty list: inside (built on
        access: a list per arch costs more than the prediction itself for large batches)."""
        return [self.reasons.get(i, []) for i in range(len(self.latency_ms))]


class Predictor:
    """A latency surrogate loaded from a model file (``esm train --out M.h5``)."""

    def __init__(self, impl: "_esm.Predictor") -> None:
        self._impl = impl

    @classmethod
    def load(cls, path: "str | os.PathLike[str]") -> "Predictor":
        """Loads the model file at ``path``; ValueError when it is missing or not a model file."""
        return cls(_esm.Predictor.load(os.fspath(path)))

    def predict(self, archs: Sequence[str]) -> Prediction:
        """Latencies of ``archs`` (canonical texts of the model's space), as numpy arrays. Runs
        without the GIL. ValueError names the first text that does not parse or is of another space."""
        if isinstance(archs, str):
            archs = [archs]
        d = self._impl.predict(archs)
        d["in_domain"] = d["in_domain"].view(np.bool_)
        return Prediction(**d)

    @property
    def space(self) -> str:
        """The model's search space."""
        return self._impl.space

    @property
    def encoding(self) -> str:
        """The feature encoding the model was trained on."""
        return self._impl.encoding

    @property
    def label(self) -> str:
        """``"trimmed_mean"`` (predicts ms) or ``"normalised"`` (predicts latency / reference)."""
        return self._impl.label

    @property
    def domain(self) -> str:
        """The training domain, e.g. ``"widths w1.2, resolutions 128..128, depths 10-20"``."""
        return self._impl.domain

    @property
    def interval_level(self) -> float:
        """Coverage the intervals were calibrated for (0.9), NaN when the model has none."""
        return self._impl.interval_level

    @property
    def adapted(self) -> bool:
        """True for a model made by ``esm adapt`` (source models recalibrated on a new device's rows)."""
        return len(self._impl.adapted_from) > 0

    @property
    def adapted_from(self) -> List[str]:
        """The source model files an adapted model recalibrates (absolute paths); empty otherwise."""
        return list(self._impl.adapted_from)

    @property
    def rows_used(self) -> int:
        """Rows of the target device the model was fitted on."""
        return self._impl.rows_used

    @property
    def reference_ms(self) -> float:
        """Normalised models: the reference network's latency predictions are scaled by."""
        return self._impl.reference_ms

    @reference_ms.setter
    def reference_ms(self, ms: float) -> None:
        self._impl.reference_ms = ms


@dataclass
class Dataset:
    """A latency dataset: one DataFrame row per planned architecture, plus the file's provenance."""

    frame: "Any"  #: pandas.DataFrame: arch, id, depth, resolution, macs, params, status, labels, ...
    genes: np.ndarray  #: rows x len(provenance["gene_names"]) int32
    provenance: Dict[str, Any]  #: root attributes and the /runs records


def open_dataset(path: "str | os.PathLike[str]") -> Dataset:
    """Reads a dataset file (``esm profile`` / ``esm loop``) with esm's own reader: every schema
    version that ``esm info`` reads. ``frame`` has the /archs columns (arch text, id, depth,
    resolution, macs, params) and the /results columns (status as a category, trimmed_mean_ms and
    normalised labels, statistics, run/rank, error), in file order."""
    import pandas as pd

    d = _esm.read_dataset(os.fspath(path))
    cols = d["columns"]
    frame = pd.DataFrame(cols)
    frame["status"] = pd.Categorical(frame["status"], categories=["pending", "done", "failed"])
    frame["id"] = frame["id"].astype("uint64")
    return Dataset(frame=frame, genes=d["genes"], provenance=d["provenance"])


def bench(
    arch: str,
    backend: str = "cpu",
    batch: int = 1,
    reps: int = 150,
    warmup_runs: int = 10,
    warmup_ms: float = 200.0,
    threads: int = 0,
    mode: str = "plain",
    seed: int = DEFAULT_WEIGHTS_SEED,
    precision: str = "fp32",
) -> Dict[str, Any]:
    """Times ``arch`` like ``esm bench`` (defaults: esm's measurement policy) and returns the
    statistics: {"stats": {trimmed_mean_ms, median_ms, ..., noise}, "samples_ms": array, backend,
    description, compile_ms, ...}. backend: ``"cpu"`` (oneDNN), ``"cudnn"`` or ``"reference"``;
    mode: ``"plain"`` or ``"normalised"``; precision as ``esm bench --precision``: ``"fp32"``,
    ``"fp16"`` (cudnn), ``"bf16"`` or ``"int8"`` (cpu: a CPU without the ISA raises ValueError).
    The result's ``"precision"`` says which ran. Runs without the GIL."""
    return _esm.bench(arch, backend, batch, reps, warmup_runs, warmup_ms, threads, mode, seed, precision)


def parameters(arch: str, seed: int = DEFAULT_WEIGHTS_SEED) -> List[Tuple[np.ndarray, np.ndarray]]:
    """The deterministic weights every esm backend runs ``arch`` with, batch-norm folded: one
    (weight, bias) pair of flat float32 arrays per IR layer (conv weights OIHW with I = in/groups,
    fully-connected K x C, standalone batch-norm scale and shift; empty for other layers)."""
    return _esm.parameters(arch, 1, seed)


def make_input(arch: str, batch: int = 1, seed: int = DEFAULT_WEIGHTS_SEED) -> np.ndarray:
    """The deterministic network input esm's backends use: float32, batch x 3 x R x R."""
    return _esm.make_input(arch, batch, seed)


def reference_forward(arch: str, input: Optional[np.ndarray] = None,
                      seed: int = DEFAULT_WEIGHTS_SEED) -> np.ndarray:
    """Logits (batch x classes, float64) of esm's reference executor (double-precision loops, the
    oracle the oneDNN and cuDNN backends are tested against) on ``input`` (default:
    :func:`make_input`), with the weights of :func:`parameters`. Runs without the GIL."""
    if input is None:
        input = make_input(arch, 1, seed)
    return _esm.reference_forward(arch, np.ascontiguousarray(input, dtype=np.float32), seed)


def to_onnx(arch: str, path: "Optional[str | os.PathLike[str]]" = None, batch: int = 1,
            seed: int = DEFAULT_WEIGHTS_SEED, opset: int = 17) -> "Any":
    """The network of ``arch`` as an ONNX model (opset >= 17) with esm's deterministic weights
    (:func:`parameters`); written to ``path`` when given. Input "input" (batch x 3 x R x R float32),
    output "logits". Needs the ``onnx`` package. Returns the onnx.ModelProto."""
    from ._onnx import build_model

    model = build_model(describe(arch, batch)["network"], parameters(arch, seed), opset)
    if path is not None:
        import onnx

        onnx.save(model, os.fspath(path))
    return model
