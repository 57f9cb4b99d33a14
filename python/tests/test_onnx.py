"""esm.to_onnx: the exported model under onnxruntime computes what esm's reference executor does."""
import numpy as np
import pytest

import esm

onnx = pytest.importorskip("onnx")  # in the test extra: installed wherever the suite runs
ort = pytest.importorskip("onnxruntime")


def run_onnx(path, x):
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    # No graph rewrites: the model as exported is what is checked.
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    return session.run(["logits"], {"input": x})[0]


@pytest.mark.parametrize("space", ["ofa-mbv3", "ofa-resnet50", "densenet"])
def test_onnx_matches_reference_executor(space, tmp_path):
    arch = esm.sample(space, 1, seed=5, resolution=128)[0]
    path = tmp_path / "net.onnx"
    model = esm.to_onnx(arch, path)
    assert model.opset_import[0].version >= 17
    x = esm.make_input(arch)
    got = run_onnx(path, x)
    want = esm.reference_forward(arch, x)
    assert got.shape == want.shape == (1, 1000)
    # float32 (onnxruntime) against double (reference): 1e-4 relative to the logits' scale.
    scale = max(1.0, float(np.abs(want).max()))
    assert np.abs(got - want).max() <= 1e-4 * scale
    # A network with other weights gives other logits: the comparison can fail.
    esm.to_onnx(arch, tmp_path / "other.onnx", seed=7)
    other = run_onnx(tmp_path / "other.onnx", x)
    assert np.abs(other - want).max() > 1e-2 * scale


def test_onnx_batch(tmp_path):
    arch = esm.sample("ofa-mbv3", 1, seed=9, resolution=128)[0]
    esm.to_onnx(arch, tmp_path / "b2.onnx", batch=2)
    x = esm.make_input(arch, batch=2)
    got = run_onnx(tmp_path / "b2.onnx", x)
    want = esm.reference_forward(arch, x)
    assert got.shape == (2, 1000)
    assert np.abs(got - want).max() <= 1e-4 * max(1.0, float(np.abs(want).max()))


def test_reference_and_export_errors():
    arch = esm.sample("ofa-mbv3", 1, resolution=128)[0]
    with pytest.raises(ValueError, match="3 x 128 x 128"):
        esm.reference_forward(arch, np.zeros((1, 3, 64, 64), np.float32))
    with pytest.raises(ValueError, match="opset"):
        esm.to_onnx(arch, opset=13)
    with pytest.raises(ValueError, match="999"):
        esm.to_onnx("ofa-mbv3:w1.0:r999:d=2,2,2,2,2:k=3,3-3,3-3,3-3,3-3,3:e=3,3-3,3-3,3-3,3-3,3")
