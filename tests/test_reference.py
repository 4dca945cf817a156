"""Reference tables: the va default and user CSVs."""

from __future__ import annotations

import pytest

from qscore.analysis.reference import default_reference, load_reference
from qscore.errors import ReferenceTableError
from tests.conftest import PAPER_CSV, needs_va, require


@needs_va
def test_default_reference_from_va():
    table = default_reference()
    assert table is not None
    assert table.version
    assert table.entries > 20000
    assert list(table.data.columns) == ["id", "resolution", "qscore"]
    assert table.data["resolution"].notna().all()
    assert default_reference() is table
    row = table.data[table.data["id"] == "7770"]
    assert row["resolution"].iloc[0] == pytest.approx(1.9)
    assert "0449" in set(table.data["id"])
    print(table.describe())


def test_paper_format_accepted():
    table = load_reference(require(PAPER_CSV))
    assert table.entries == 10188
    assert table.data["id"].iloc[0] == "EMD-5147"


def test_user_csv_drops_missing_rows(tmp_path):
    path = tmp_path / "ref.csv"
    path.write_text("id,resolution,qscore\n0001,3.0,0.5\n0002,,0.4\n0003,2.0,nan\n0004,2.5,0.6\n")
    table = load_reference(path)
    assert table.entries == 2
    assert table.data["id"].tolist() == ["0001", "0004"]
    assert table.source == str(path)


def test_bytes_and_name():
    table = load_reference(b"emdb_id,resolution,qscore\nEMD-1,3,0.5\n", name="upload.csv")
    assert table.entries == 1 and table.source == "upload.csv"


@pytest.mark.parametrize(
    ("content", "match"),
    [
        ("id,resolution\n1,3.0\n", "qscore"),
        ("", "empty"),
        ("id,resolution,qscore\n1,x,y\n", "no rows"),
    ],
)
def test_bad_csv(tmp_path, content, match):
    path = tmp_path / "bad.csv"
    path.write_text(content)
    with pytest.raises(ReferenceTableError, match=match):
        load_reference(path)


def test_not_a_csv(tmp_path):
    path = tmp_path / "map.mrc"
    path.write_bytes(bytes(range(256)) * 8)
    with pytest.raises(ReferenceTableError):
        load_reference(path)


def test_missing_file(tmp_path):
    with pytest.raises(ReferenceTableError, match="does not exist"):
        load_reference(tmp_path / "nope.csv")
