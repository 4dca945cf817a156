"""Equations 1–4, MapQ's sigma-0.6 curve and the verdict classification."""

from __future__ import annotations

import math

import numpy as np
import pytest

from qscore.analysis.expected import (
    ExpectedQ,
    expected_curves,
    expected_q,
    has_bands,
    verdict,
    verdict_codes,
)
from qscore.errors import ParameterError


def test_equation_1_by_hand_at_3_angstrom():
    # -0.0016*27 + 0.0434*9 - 0.3956*3 + 1.3366 = -0.0432 + 0.3906 - 1.1868 + 1.3366 = 0.4972
    e = expected_q(3.0)
    assert isinstance(e, ExpectedQ)
    assert e.q_mean == pytest.approx(0.4972, abs=1e-12)
    assert e.q_peak == pytest.approx(0.5212, abs=1e-12)
    assert e.q_low95 == pytest.approx(0.3712, abs=1e-12)
    assert e.q_high95 == pytest.approx(0.6062, abs=1e-12)
    assert e.warning is None


def test_equation_1_by_hand_at_1_and_10_angstrom():
    # d=1: -0.0016 + 0.0434 - 0.3956 + 1.3366 = 0.9828; d=10: -1.6 + 4.34 - 3.956 + 1.3366 = 0.1206
    assert expected_q(1.0).q_mean == pytest.approx(0.9828, abs=1e-12)
    assert expected_q(10.0).q_mean == pytest.approx(0.1206, abs=1e-12)
    assert expected_q(10.0).warning is None


def test_sigma_06_curve():
    # at 3.9 Å: -0.113086 + 0.760310 - 1.760439 + 1.536186 = 0.422972
    peak = -0.0019064058 * 3.9**3 + 0.0499875375 * 3.9**2 - 0.4513945578 * 3.9 + 1.5361860733
    e = expected_q(3.9, sigma=0.6)
    assert e.q_mean is None
    assert e.q_peak == pytest.approx(peak, abs=1e-12)
    assert e.q_peak == pytest.approx(0.422972, abs=1e-5)
    assert e.q_low95 == pytest.approx(peak - 0.1)
    assert e.q_high95 == pytest.approx(peak + 0.1)


def test_sigma_tolerance_and_no_bands():
    assert expected_q(3.0, sigma=0.4000001) is not None
    assert expected_q(3.0, sigma=0.5) is None
    assert verdict(0.5, 3.0, sigma=0.5) is None
    assert not has_bands(1.0)
    assert has_bands(0.6)
    with pytest.raises(ParameterError):
        expected_q(3.0, sigma=0.0)


def test_out_of_range_still_computed_with_warning():
    e = expected_q(12.0)
    assert e is not None and e.warning and "outside" in e.warning
    assert e.q_mean == pytest.approx(np.polyval([-0.0016, 0.0434, -0.3956, 1.3366], 12.0))
    assert expected_q(0.8).warning


@pytest.mark.parametrize("bad", [0.0, -2.0, math.nan, math.inf, "x"])
def test_bad_resolution_raises(bad):
    with pytest.raises(ParameterError, match="resolution"):
        expected_q(bad)


def test_verdicts_at_3_angstrom():
    assert verdict(0.30, 3.0).code == "below"
    assert verdict(0.50, 3.0).code == "typical"
    assert verdict(0.70, 3.0).code == "above"
    assert verdict(0.372, 3.0).code == "typical"
    assert verdict(0.370, 3.0).code == "below"
    assert verdict(0.70, 3.0).label == "above Q_high_95%"
    assert "oversharpening" in verdict(0.70, 3.0).explanation
    assert "misfit" in verdict(0.2, 3.0).explanation
    with pytest.raises(ParameterError):
        verdict(math.nan, 3.0)


def test_verdict_codes_vectorised():
    codes = verdict_codes(np.array([0.3, 0.5, 0.7, np.nan]), 3.0)
    assert codes.tolist() == ["below", "typical", "above", ""]
    per_res = verdict_codes(np.array([0.5, 0.5]), np.array([3.0, 8.0]))
    assert per_res.tolist() == ["typical", "above"]
    assert verdict_codes(np.array([0.5]), 3.0, sigma=1.0).tolist() == [""]


def test_expected_curves_frame():
    frame = expected_curves(np.array([1.0, 3.0, 10.0]))
    assert list(frame.columns) == ["resolution", "q_mean", "q_peak", "q_low95", "q_high95"]
    assert frame["q_mean"].tolist() == pytest.approx([0.9828, 0.4972, 0.1206])
    assert expected_curves(np.array([2.0]), sigma=0.6)["q_mean"].isna().all()
    assert expected_curves(np.array([2.0]), sigma=1.0)["q_peak"].isna().all()
    with pytest.raises(ParameterError):
        expected_curves(np.array([0.0]))
