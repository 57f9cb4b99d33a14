"""esm.spaces / sample / describe / canonical: the same answers as the CLI, ValueError on bad input."""
import json

import pytest

import esm
from conftest import run_cli

SPACES = ["ofa-mbv3", "ofa-resnet50", "densenet"]


def test_spaces_match_cli(esm_cli):
    listed = [line for line in run_cli(esm_cli, "spaces").stdout.splitlines() if line and not line.startswith(" ")]
    got = esm.spaces()
    assert list(got) == listed == SPACES
    mbv3 = got["ofa-mbv3"]
    assert mbv3["variants"] == ["w1.0", "w1.2"]
    assert mbv3["resolutions"][0] == 128 and mbv3["resolutions"][-1] == 224
    assert mbv3["architectures"] > 1e18
    assert len(mbv3["gene_names"]) > 0 and mbv3["depth_bins"] == sorted(mbv3["depth_bins"])


@pytest.mark.parametrize("space", SPACES)
@pytest.mark.parametrize("policy", ["uniform", "balanced"])
def test_sample_matches_cli(esm_cli, space, policy):
    cli = run_cli(esm_cli, "sample", "--space", space, "--count", "25", "--policy", policy, "--seed", "7").stdout
    assert esm.sample(space, 25, policy=policy, seed=7) == cli.splitlines()


def test_sample_constraints_and_weights_match_cli(esm_cli):
    cli = run_cli(esm_cli, "sample", "--space", "ofa-mbv3", "--count", "12", "--width", "w1.2", "--resolution", "160",
                  "--seed", "3").stdout.splitlines()
    got = esm.sample("ofa-mbv3", 12, seed=3, width="w1.2", resolution=160)
    assert got == cli and all(":w1.2:r160:" in a for a in got)
    cli = run_cli(esm_cli, "sample", "--space", "densenet", "--count", "10", "--policy", "weighted",
                  "--bin-weights", "60:1,70:3", "--seed", "1").stdout.splitlines()
    assert esm.sample("densenet", 10, policy="weighted", bin_weights={60: 1, 70: 3}, seed=1) == cli


def test_sample_seeds_differ():
    assert esm.sample("ofa-resnet50", 5, seed=1) != esm.sample("ofa-resnet50", 5, seed=2)


@pytest.mark.parametrize("space", SPACES)
def test_describe_matches_cli_json(esm_cli, space):
    arch = esm.sample(space, 1, seed=11)[0]
    for batch in (1, 4):
        cli = json.loads(run_cli(esm_cli, "describe", "--arch", arch, "--batch", str(batch), "--json").stdout)
        assert esm.describe(arch, batch=batch) == cli
    d = esm.describe(arch)
    assert d["space"] == space and d["network"]["arch"] == arch and len(d["id"]) == 16


def test_canonical_round_trips():
    arch = esm.sample("ofa-mbv3", 1)[0]
    assert esm.canonical(arch) == arch


@pytest.mark.parametrize("call, token", [
    (lambda: esm.sample("nas-bench-201", 3), "nas-bench-201"),
    (lambda: esm.sample("ofa-mbv3", 3, policy="greedy"), "greedy"),
    (lambda: esm.sample("ofa-mbv3", 0), "count"),
    (lambda: esm.sample("ofa-mbv3", 3, seed=-1), "seed"),
    (lambda: esm.sample("ofa-mbv3", 3, width="w9.9"), "w9.9"),
    (lambda: esm.sample("ofa-mbv3", 3, resolution=130), "130"),
    (lambda: esm.sample("ofa-mbv3", 3, policy="weighted"), "bin_weights"),
    (lambda: esm.sample("ofa-mbv3", 3, bin_weights={10: 1}), "weighted"),
    (lambda: esm.describe("ofa-mbv3:w1.0:r999:d=2,2,2,2,2"), "r999"),
    (lambda: esm.describe("mystery:w1.0"), "mystery"),
    (lambda: esm.describe(esm.sample("ofa-mbv3", 1)[0], batch=0), "batch"),
    (lambda: esm.canonical(""), ""),
])
def test_bad_input_raises_value_error_naming_token(call, token):
    with pytest.raises(ValueError) as e:
        call()
    assert token in str(e.value)


def test_bad_input_same_message_as_cli(esm_cli):
    bad = "ofa-mbv3:w1.0:r999:d=2,2,2,2,2"
    cli = run_cli(esm_cli, "describe", "--arch", bad, check=False)
    assert cli.returncode == 2
    with pytest.raises(ValueError) as e:
        esm.describe(bad)
    assert cli.stderr.strip() == f"esm: error: {e.value}"
