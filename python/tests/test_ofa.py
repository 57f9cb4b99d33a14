"""Once-for-all arch configs <-> esm texts (esm.from_ofa / esm.to_ofa)."""
import json
import os
import pathlib

import pytest

import esm

REPO = pathlib.Path(__file__).resolve().parents[2]
SHARED = pathlib.Path(os.environ.get("ESM_SHARED_DIR", REPO.parent / "shared"))
HELP_ARCHS = SHARED / "data" / "help-ofa" / "archs.jsonl"


def active_slots_agree(config, back):
    """Every slot a stage's depth uses holds the same choice in both configs."""
    for stage, depth in enumerate(config["d"]):
        for position in range(depth):
            slot = stage * 4 + position
            assert back["ks"][slot] == config["ks"][slot]
            assert back["e"][slot] == config["e"][slot]


@pytest.mark.skipif(not HELP_ARCHS.is_file(), reason=f"shared HELP archs not found at {HELP_ARCHS}")
def test_every_shared_arch_round_trips():
    lines = HELP_ARCHS.read_text().splitlines()
    assert len(lines) == 5000
    texts = set()
    for line in lines:
        config = json.loads(line)
        text = esm.from_ofa(config, space="ofa-mbv3", width="w1.2")
        assert text == esm.canonical(text)
        back = esm.to_ofa(text)
        assert back["d"] == config["d"] and back["r"] == config["r"]
        active_slots_agree(config, back)
        assert esm.from_ofa(back, space="ofa-mbv3", width="w1.2") == text
        texts.add(text)
    assert len(texts) == 5000  # HELP's archs are distinct, and so are their texts


def test_sampled_archs_round_trip_in_both_ofa_spaces():
    for space, width in (("ofa-mbv3", "w1.0"), ("ofa-resnet50", "")):
        for text in esm.sample(space, 50, seed=3, width=width or None):
            assert esm.from_ofa(esm.to_ofa(text), space=space, width=width) == text


def test_to_ofa_gives_plain_json_types():
    text = esm.sample("ofa-mbv3", 1, seed=1, width="w1.2")[0]
    config = esm.to_ofa(text)
    assert sorted(config) == ["d", "e", "ks", "r"]
    assert len(config["ks"]) == 20 and len(config["e"]) == 20 and len(config["d"]) == 5
    assert all(isinstance(v, int) for v in config["e"])
    json.dumps(config)


@pytest.mark.parametrize(
    "change, message",
    [
        (lambda c: c.update(x=1), "unknown OFA config key 'x'"),
        (lambda c: c.update(ks=c["ks"][:19]), "ks"),
        (lambda c: c["e"].__setitem__(0, 5), "e"),
        (lambda c: c.update(r=100), "r"),
        (lambda c: c.update(d="234"), "d"),
    ],
)
def test_bad_configs_are_value_errors_naming_the_key(change, message):
    config = esm.to_ofa(esm.sample("ofa-mbv3", 1, seed=2, width="w1.2")[0])
    change(config)
    with pytest.raises(ValueError, match=message):
        esm.from_ofa(config, space="ofa-mbv3", width="w1.2")
