"""The line-tracking YAML reader and the overlay of one scenario on another."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from wcf_model.overlay import overlay
from wcf_model.scenario import canonical_json
from wcf_model.yamlio import Loc, LocDict, locate, parse_yaml, plain


def test_every_key_knows_its_line():
    doc, problems = parse_yaml("a:\n  b: 1\n  c:\n    - x\n    - {d: 2}\n", "f.yaml")
    assert problems == []
    assert doc.locs["a"] == Loc("f.yaml", 1)
    assert doc["a"].locs["c"].line == 3
    assert locate(doc, ("a", "c", 1, "d")) == Loc("f.yaml", 5)
    # a path that leaves the tree is located at the deepest key that exists
    assert locate(doc, ("a", "b", "nope")) == Loc("f.yaml", 2)


def test_safe_loader_refuses_python_objects():
    doc, problems = parse_yaml("a: !!python/object/apply:os.system ['true']\n", "f.yaml")
    assert doc is None and "YAML syntax error" in problems[0].message


def test_merge_keys_are_resolved():
    doc, problems = parse_yaml("base: &b {x: 1, y: 2}\nchild:\n  <<: *b\n  y: 3\n", "f.yaml")
    assert problems == [] and plain(doc["child"]) == {"x": 1, "y": 3}


def _tree(filename):
    keys = st.sampled_from(["a", "b", "c", "value", "d"])
    leaves = st.one_of(st.integers(-5, 5), st.text(max_size=3))
    return st.recursive(leaves, lambda kids: st.dictionaries(keys, kids, max_size=4), max_leaves=12).map(
        lambda t: _locdict(t, filename) if isinstance(t, dict) else _locdict({"a": t}, filename))


def _locdict(d, filename):
    out = LocDict(loc=Loc(filename, 1))
    for i, (k, v) in enumerate(d.items()):
        out[k] = _locdict(v, filename) if isinstance(v, dict) else v
        out.locs[k] = Loc(filename, i + 1)
    return out


@given(_tree("base"), _tree("top"))
def test_overlay_properties(base, top):
    merged = overlay(base, top)
    # every key the top file writes wins at the top level, with the top file's location
    for k, v in top.items():
        assert k in merged and merged.locs[k].file == "top"
        if not isinstance(v, dict):
            assert merged[k] == v
    # keys the top file does not mention keep the base's value and location
    for k in set(base) - set(top):
        assert plain(merged[k]) == plain(base[k]) and merged.locs[k].file == "base"
    # overlaying nothing changes nothing; overlaying twice is the same as once
    assert plain(overlay(base, LocDict())) == plain(base)
    assert canonical_json(plain(overlay(merged, top))) == canonical_json(plain(merged))
