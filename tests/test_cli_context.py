"""The ``relative`` and ``stats`` sub-commands through the dispatcher."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from qscore.cli.main import main
from tests.conftest import PAPER_CSV, needs_va, require


@pytest.fixture
def small_csv(tmp_path) -> Path:
    path = tmp_path / "ref.csv"
    rows = [f"{i:04d},{2.5 + (i % 11) / 10:.1f},{0.3 + (i % 7) / 20:.3f}" for i in range(60)]
    path.write_text("id,resolution,qscore\n" + "\n".join(rows) + "\n")
    return path


def test_relative_json_keys(small_csv, tmp_path, capsys):
    out = tmp_path / "r.json"
    code = main(
        [
            "relative",
            "--resolution",
            "3.0",
            "--q",
            "0.45",
            "--reference",
            str(small_csv),
            "--json",
            str(out),
        ]
    )
    assert code == 0
    text = capsys.readouterr().out
    assert "Q_relative_all" in text and "Q_relative_resolution" in text and "Verdict" in text
    data = json.loads(out.read_text())
    for key in (
        "q_relative_all",
        "q_relative_resolution",
        "entries_all",
        "entries_window",
        "window",
        "q_peak",
        "q_low95",
        "q_high95",
        "verdict",
        "reference_source",
    ):
        assert key in data
    assert data["entries_all"] == 60
    assert data["window"] == 0.5


def test_relative_json_to_stdout(small_csv, capsys):
    code = main(
        [
            "relative",
            "--resolution",
            "3",
            "--q",
            "0.4",
            "--window",
            "0.2",
            "--reference",
            str(small_csv),
            "--json",
            "-",
        ]
    )
    assert code == 0
    data = json.loads(capsys.readouterr().out)
    assert data["window"] == 0.2 and data["verdict"] in {"below", "typical", "above"}


def test_relative_without_reference(monkeypatch, capsys):
    import qscore.analysis.reference as reference

    monkeypatch.setattr(reference, "default_reference", lambda: None)
    code = main(["relative", "--resolution", "3.0", "--q", "0.5"])
    out = capsys.readouterr().out
    assert code == 0
    assert "No reference table is available" in out
    assert "Q_peak" in out


@pytest.mark.parametrize(
    "argv",
    [
        ["relative", "--resolution", "0", "--q", "0.5"],
        ["relative", "--resolution", "3", "--q", "nan"],
        ["relative", "--resolution", "3", "--q", "0.5", "--reference", "/nonexistent/ref.csv"],
        ["stats", "--reference", "/nonexistent/ref.csv"],
    ],
)
def test_errors_exit_2(argv, capsys):
    assert main(argv) == 2
    assert capsys.readouterr().err.startswith(f"qscore {argv[0]}:")


def test_stats_without_reference(monkeypatch, capsys):
    import qscore.analysis.reference as reference

    monkeypatch.setattr(reference, "default_reference", lambda: None)
    assert main(["stats"]) == 2
    assert "No reference table" in capsys.readouterr().err


def test_stats_json_keys(small_csv, tmp_path, capsys):
    out = tmp_path / "s.json"
    assert main(["stats", "--reference", str(small_csv), "--json", str(out)]) == 0
    assert "Cross-validation" in capsys.readouterr().out
    data = json.loads(out.read_text())
    assert {"polynomial", "cross_validation", "offsets", "entries", "windows", "source"} <= set(
        data
    )
    assert {"r2", "rmse", "mae"} <= set(data["cross_validation"])
    assert {"peak", "low95", "high95"} <= set(data["offsets"])
    assert [p["degree"] for p in data["polynomial"]] == [1, 2, 3, 4]
    assert len(data["polynomial"][2]["coefficients"]) == 4
    assert len(data["windows"]["rows"]) == 12


def test_stats_on_paper_data(capsys):
    assert main(["stats", "--reference", str(require(PAPER_CSV)), "--json", "-"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["entries"] == 10188
    assert data["polynomial"][2]["r2"] == pytest.approx(0.704, abs=0.002)


@needs_va
def test_relative_with_va_default(capsys):
    assert main(["relative", "--resolution", "1.9", "--q", "0.70", "--json", "-"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["reference_version"]
    assert data["q_relative_all"] == pytest.approx(99, abs=3)
    assert data["q_relative_resolution"] == pytest.approx(73, abs=3)
