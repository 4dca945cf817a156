"""The dashboard's state helpers without a browser: settings, URL parameters, the byte-bounded
result store, weakly kept results and the choice between uploads and the pinned pair."""

from __future__ import annotations

import gc

import numpy as np
import pandas as pd
import pytest

from app_support import urlstate
from app_support.cache import Result, Source, _Store, nbytes
from app_support.inputs import Pinned, _choose
from app_support.settings import settings
from app_support.state import Current, Kept


def test_settings_come_from_the_environment_before_qscore_toml(tmp_path, monkeypatch):
    for name in ("UPLOAD_DIR", "UPLOAD_KEEP_HOURS", "RESULT_CACHE_MB", "ALLOW_LOCAL_PATHS"):
        monkeypatch.delenv(f"QSCORE_{name}", raising=False)
    defaults = settings(tmp_path)
    assert defaults.upload_keep_hours == 24 and defaults.result_cache_mb == 1024
    assert not defaults.allow_local_paths and "qscore-uploads" in defaults.upload_dir.name
    (tmp_path / "qscore.toml").write_text(
        '[qscore]\nupload_dir = "/srv/up"\nupload_keep_hours = 2\nresult_cache_mb = -5\n'
    )
    configured = settings(tmp_path)
    assert str(configured.upload_dir) == "/srv/up" and configured.upload_keep_hours == 2
    assert configured.result_cache_mb == 1024, "a non-positive value falls back to the default"
    monkeypatch.setenv("QSCORE_UPLOAD_KEEP_HOURS", "0.5")
    assert settings(tmp_path).upload_keep_hours == 0.5
    (tmp_path / "qscore.toml").write_text("[qscore\nbroken")
    assert settings(tmp_path).upload_keep_hours == 0.5


def test_url_parameters_round_trip_and_bad_values_are_ignored():
    params = urlstate.wanted(
        map_key="k" * 32,
        model_key="m" * 32,
        resolution=3.9,
        sigma=0.6,
        mode="direct",
        residue="A:145",
    )
    assert params == {
        "map": "k" * 32,
        "model": "m" * 32,
        "resolution": "3.9",
        "sigma": "0.6",
        "residue": "A:145",
    }
    back = urlstate.parse(params)
    assert (back.map_key, back.model_key, back.resolution, back.sigma) == (
        "k" * 32,
        "m" * 32,
        3.9,
        0.6,
    )
    assert back.mode is None and back.residue == "A:145"
    bad = urlstate.parse({"resolution": "nan", "sigma": "9", "mode": "<script>", "map": ""})
    assert bad == urlstate.Requested()
    assert (
        urlstate.wanted(
            map_key=None, model_key=None, resolution=3.0, sigma=0.4, mode="direct", residue=None
        )
        == {}
    ), "the example at default parameters leaves the URL clean"


def test_residues_are_named_in_the_url_by_chain_number_and_insertion_code():
    residues = pd.DataFrame(
        {"chain": ["A", "A", "B'x"], "resseq": [52, 52, -3], "icode": ["", "A", ""]}
    )
    for row in range(3):
        assert urlstate.residue_row(residues, urlstate.residue_text(residues, row)) == row
    assert urlstate.residue_text(residues, 1) == "A:52A"
    assert urlstate.residue_row(residues, "A:99") is None
    assert urlstate.residue_row(residues, "nonsense") is None


def test_the_store_is_bounded_by_bytes():
    store = _Store(100, max_bytes=10_000_000)
    for name in "abc":
        store.put(name, np.zeros(1_000_000))  # 8 MB each
    assert len(store) == 1 and store.get("c") is not None and store.get("a") is None
    store.put("small", np.zeros(10))
    assert store.get("c") is not None and store.bytes < 10_000_000
    huge = np.zeros(5_000_000)
    store.put("huge", huge)
    assert store.get("huge") is huge, "the newest entry is kept even when over the budget"


def test_nbytes_counts_arrays_frames_and_dataclasses(emd30342_pair):
    dmap, model = emd30342_pair
    assert nbytes(dmap) >= dmap.values.nbytes
    measured = nbytes(model)
    arrays = sum(v.nbytes for v in vars(model).values() if isinstance(v, np.ndarray))
    assert arrays + 5_000_000 < measured < arrays + 20_000_000, "the parsed mmCIF is counted"


PARAMETERS = {"resolution": 3.9, "sigma": 0.4, "mode": "direct", "reference": None}


def _current(scored, analysis) -> Current:
    view = {"window": 0.5, "selected": None, "is_example": False}
    return Current(key="k", label="m + c", scored=scored, analysis=analysis, **PARAMETERS, **view)


def test_a_kept_result_does_not_keep_the_scored_data_alive():
    class Data:
        pass

    scored, analysis = Data(), Data()
    kept = Kept(_current(scored, analysis))
    assert kept.label == "m + c" and kept.scored is scored
    assert kept.resolve().analysis is analysis
    entry = Result(scored=scored, analysis=analysis)
    del scored, analysis
    gc.collect()
    assert kept.resolve() is not None, "alive while the store holds the entry"
    del entry
    gc.collect()
    assert kept.resolve() is None and kept.scored is None and kept.label == "m + c"


def _source(name: str) -> Source:
    return Source(name=name, digest=name * 8, path=f"/store/{name}", key=name)


@pytest.mark.parametrize(
    ("map_upload", "model_upload", "expected", "note"),
    [
        (None, None, ("old.map", "old.cif"), None),
        ("new.map", None, ("new.map", "old.cif"), "The new map is scored with the model old.cif"),
        (None, "new.cif", ("old.map", "new.cif"), "The new model is scored with the map old.map"),
        ("old.map", None, ("old.map", "old.cif"), "Upload a model to replace old.cif"),
        ("new.map", "new.cif", ("new.map", "new.cif"), None),
    ],
)
def test_the_pinned_pair_stands_in_for_missing_uploads(map_upload, model_upload, expected, note):
    pair = Pinned(_source("old.map"), _source("old.cif"))
    up_map = _source(map_upload) if map_upload else None
    up_model = _source(model_upload) if model_upload else None
    chosen_map, chosen_model, said = _choose(up_map, up_model, pair)
    assert (chosen_map.name, chosen_model.name) == expected
    assert (said is None) == (note is None) and (note is None or said.startswith(note))


def test_without_a_pinned_pair_only_two_uploads_count():
    assert _choose(_source("a.map"), None, None) == (None, None, None)
    chosen = _choose(_source("a.map"), _source("b.cif"), None)
    assert [s.name for s in chosen[:2]] == ["a.map", "b.cif"]


def test_a_plot_is_drawn_afresh_when_the_selection_moves_other_than_by_its_click(monkeypatch):
    from types import SimpleNamespace

    from app_support import selection, state

    chosen: dict = {"row": None}
    monkeypatch.setattr(selection.st, "session_state", {})
    monkeypatch.setattr(state, "current", lambda: SimpleNamespace(selected=chosen["row"]))
    monkeypatch.setattr(state, "select_residue", lambda row: chosen.update(row=row))
    key = selection.chart_key("residues-A")
    assert key == "residues-A.0"
    # A click on the plot selects row 7 and keeps the key: Plotly's highlight of it stays.
    point = {"curve_number": 1, "point_index": 3, "customdata": [7, "A", "145", "ASP", ""]}
    selection.take_click(key)
    selection.from_plot(SimpleNamespace(selection=SimpleNamespace(points=[point])), key)
    assert chosen["row"] == 7
    assert selection.chart_key("residues-A") == key
    # The same click seen again (the plot keeps its selection across reruns) changes nothing.
    chosen["row"] = 9  # the outlier walk moved on
    selection.from_plot(SimpleNamespace(selection=SimpleNamespace(points=[point])), key)
    assert chosen["row"] == 9
    assert selection.chart_key("residues-A") == "residues-A.1"
    assert selection.chart_key("residues-A") == "residues-A.1"
    assert selection.chart_key("residues-B") == "residues-B.0"
