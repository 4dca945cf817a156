"""A workshop in headless Chromium at 1280×720 with large fonts: predict, reveal and next (the
first two scenarios and the last one, whose story is the longest; the AppTests walk all of them),
the Learn tabs, the instructor's guide and the switch away from uploaded files.

Runs the real app (``streamlit run app.py``). At every step it checks what an instructor would
check on a projector: the choice and its button are on screen before the guess, no number is
shown before it, the story appears once, the numbers are in view after it, nothing is wider than
the page, the tab strip and equation (4) fit, the ladder's panel titles do not overlap. The
screenshots go to ``test-artifacts/workshop/``.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.browser_support import ARTIFACTS, CHROMIUM, LAUNCH_ARGS, Dashboard, upload
from tests.conftest import require_browser

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[1]
SHOTS = ARTIFACTS / "workshop"
WIDTH, HEIGHT = 1280, 720
BAR = ".st-key-qs-teach-workshop-bar"
#: True when an element or one inside it hides part of its content (an ellipsis, a clip).
CUT_OFF = "e => [e, ...e.querySelectorAll('*')].some(x => x.scrollWidth > x.clientWidth + 1)"
SLOW = 240_000  # ms: a rerun can take long on a busy machine


@pytest.fixture(scope="module")
def lessons():
    """(scenario, lesson) in workshop order."""
    from qscore.synthetic.examples import scenarios
    from qscore.synthetic.lessons import lesson_for

    return [(example, lesson_for(example.key)) for example in scenarios()]


@pytest.fixture(scope="module")
def app_url(lessons, tmp_path_factory):
    """The dashboard in a subprocess, stopped after the module's tests."""
    require_browser()
    with Dashboard(tmp_path_factory.mktemp("uploads")) as dashboard:
        yield dashboard.url


def settle(page, pause: int = 800) -> None:
    """Wait until the run is over and no element is stale, then let figures draw."""
    from playwright.sync_api import expect

    page.wait_for_timeout(400)
    expect(page.locator('[data-testid="stStatusWidget"]')).to_have_count(0, timeout=SLOW)
    expect(page.locator('[data-stale="true"]')).to_have_count(0, timeout=SLOW)
    expect(page.locator('[data-testid="stToast"]')).to_have_count(0, timeout=30_000)
    page.mouse.move(WIDTH - 5, HEIGHT - 5)
    page.wait_for_timeout(pause)


def shot(page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=SHOTS / f"{name}.png")


def to_top(page) -> None:
    page.evaluate("document.querySelector('[data-testid=\"stMain\"]').scrollTo(0, 0)")
    page.wait_for_timeout(300)


def nothing_wider_than_the_page(page) -> None:
    main = page.evaluate(
        "(() => { const m = document.querySelector('[data-testid=\"stMain\"]');"
        " return [m.scrollWidth, m.clientWidth]; })()"
    )
    assert main[0] <= main[1] + 1, f"the page scrolls sideways: {main}"


def in_view(page, locator) -> bool:
    box = locator.bounding_box()
    return box is not None and box["y"] >= 0 and box["y"] + box["height"] <= HEIGHT


def click_choice(page, label: str) -> None:
    page.locator(BAR).locator("label").filter(has_text=re.compile(f"^{re.escape(label)}$")).click()


def switch_on(page, label: str) -> None:
    page.locator('[data-testid="stCheckbox"]').filter(has_text=label).first.click()
    settle(page)


def boxes_overlap(a: dict, b: dict) -> bool:
    return not (
        a["x"] + a["width"] <= b["x"]
        or b["x"] + b["width"] <= a["x"]
        or a["y"] + a["height"] <= b["y"]
        or b["y"] + b["height"] <= a["y"]
    )


def gallery_card(page, key: str):
    """The gallery's card of scenario ``key`` (Streamlit writes a key's other characters than
    letters, digits, ``_`` and ``-`` as ``-`` in its class name: ``ladder-2.5`` → ``ladder-2-5``)."""
    return page.locator(".st-key-qs-gallery-" + re.sub(r"[^a-zA-Z0-9_-]", "-", key))


def predict_reveal(page, number: int, count: int, example, lesson, *, right: bool) -> None:
    """One scenario in the workshop bar: checks before the guess, the guess, checks after it."""
    from playwright.sync_api import expect

    bar = page.locator(BAR)
    expect(bar.get_by_text(f"{number}/{count} · {example.title}")).to_be_visible()
    to_top(page)
    shot(page, f"{number:02d}a_{example.key}_predict")
    # Before the guess: the story and the choice are on screen, no number anywhere.
    commit = bar.get_by_role("button", name="Commit the guess")
    assert in_view(page, commit), f"scenario {number}: the commit button is below the fold"
    choices = bar.get_by_test_id("stRadioGroup")
    assert in_view(page, choices.get_by_text(lesson.right.label, exact=True))
    expect(page.locator('[data-testid="stMetricValue"]')).to_have_count(0)
    expect(page.get_by_text("stay hidden until the class commits")).to_be_visible()
    nothing_wider_than_the_page(page)
    choice = lesson.right if right else next(c for c in lesson.choices if c.key != lesson.answer)
    click_choice(page, choice.label)
    settle(page, 300)
    commit.click()
    settle(page)
    to_top(page)
    shot(page, f"{number:02d}b_{example.key}_revealed")
    verdict = "the class got it" if right else f"the answer is {lesson.right.label}"
    expect(bar.get_by_text(verdict)).to_be_visible()
    # After it: the story once (folded in the bar), the headline numbers in view.
    assert page.get_by_text(example.explanation[:60]).count() == 1
    values = page.locator('[data-testid="stMetricValue"]')
    expect(values.first).to_be_visible()
    size = float(values.first.evaluate("e => parseFloat(getComputedStyle(e).fontSize)"))
    assert size >= 40, f"metric values are {size}px with large fonts"
    assert in_view(page, values.first), f"scenario {number}: numbers below the fold"
    nothing_wider_than_the_page(page)


def test_a_workshop_at_1280x720_with_large_fonts(app_url, lessons):
    from playwright.sync_api import expect, sync_playwright

    console_errors: list[str] = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=LAUNCH_ARGS)
        page = browser.new_page(viewport={"width": WIDTH, "height": HEIGHT})
        page.set_default_timeout(SLOW)
        page.on("pageerror", lambda e: console_errors.append(str(e)))
        page.goto(f"{app_url}/gallery")
        expect(page.get_by_text("Large fonts", exact=True)).to_be_visible(timeout=SLOW)
        settle(page)
        for label in ("Large fonts", "Predict first", "Workshop mode"):
            switch_on(page, label)
        shot(page, "00_gallery_switches")
        page.locator(BAR).get_by_role("button", name="Start ▶").click()
        settle(page)
        page.get_by_role("link", name="Overview").click()
        settle(page)

        # The first two scenarios in order (right, then wrong), then the last one (the longest
        # story) opened from its gallery card.
        walk = [(1, *lessons[0]), (2, *lessons[1]), (len(lessons), *lessons[-1])]
        expected_right = 0
        for step, (number, example, lesson) in enumerate(walk):
            if step == 2:
                page.get_by_role("link", name="Scenario gallery").click()
                settle(page)
                card = gallery_card(page, example.key)
                card.get_by_role("button", name="Open in the dashboard").click()
                settle(page)
                page.get_by_role("link", name="Overview").click()
                settle(page)
            right = step != 1
            expected_right += right
            predict_reveal(page, number, len(lessons), example, lesson, right=right)
            if step == 0:
                page.locator(BAR).get_by_role("button", name="Next ▶").click()
                settle(page)
        expect(
            page.locator(BAR).get_by_text(f"Score {expected_right} of {len(walk)}")
        ).to_be_visible()

        page.get_by_role("link", name="Reading Q-scores").click()
        settle(page, 1500)
        to_top(page)
        tabs = page.locator('[data-testid="stTabs"] [role="tablist"]').first
        widths = tabs.evaluate("e => [e.scrollWidth, e.clientWidth]")
        assert widths[0] <= widths[1] + 1, f"the tab strip overflows: {widths}"
        for k, name in enumerate(
            [
                "1 · What Q measures",
                "2 · Q falls with resolution",
                "3 · The resolvability ladder",
                "4 · Q_relative",
                "5 · B-factors, CC and CC-mean",
            ],
            start=1,
        ):
            page.get_by_role("tab", name=name).click()
            settle(page, 1500)
            panel = page.locator('[role="tabpanel"]:visible').first
            panel.scroll_into_view_if_needed()
            shot(page, f"20_learn_tab{k}")
            nothing_wider_than_the_page(page)
            if k == 1:
                titles = panel.locator(".js-plotly-plot .gtitle")
                expect(titles).to_have_count(2)
                assert "well resolved" in titles.nth(0).text_content()
                assert "poorly resolved" in titles.nth(1).text_content()
            if k == 2:
                equation = panel.locator(".katex-display").first
                box, frame = equation.bounding_box(), panel.bounding_box()
                assert box["x"] + box["width"] <= frame["x"] + frame["width"] + 1
                drawn = equation.locator(".katex-html").first.bounding_box()
                assert drawn["x"] + drawn["width"] <= frame["x"] + frame["width"] + 1
                metrics = panel.locator('[data-testid="stMetricValue"]')
                for i in range(metrics.count()):
                    assert metrics.nth(i).evaluate(CUT_OFF) is False, "a metric value is cut off"
                assert "(4)" in equation.text_content()
            if k == 3:
                labels = panel.locator(".js-plotly-plot g.annotation")
                boxes = [labels.nth(i).bounding_box() for i in range(labels.count())]
                assert len(boxes) == 4
                for i in range(len(boxes)):
                    for j in range(i + 1, len(boxes)):
                        assert not boxes_overlap(boxes[i], boxes[j]), "ladder titles overlap"

        page.get_by_role("link", name="Instructor's guide").click()
        settle(page, 1500)
        to_top(page)
        shot(page, "30_instructor")
        expect(
            page.get_by_text(f"The class so far: score {expected_right} of {len(walk)}")
        ).to_be_visible()
        page.emulate_media(media="print")
        page.wait_for_timeout(500)
        expect(page.locator('[data-testid="stSidebar"]')).to_be_hidden()
        expect(page.locator(BAR)).to_be_hidden()
        shot(page, "31_instructor_print")
        browser.close()
    assert not console_errors, f"page errors: {console_errors}"


def test_opening_a_scenario_over_uploads_asks_and_switches(app_url, lessons):
    from playwright.sync_api import expect, sync_playwright

    example = lessons[1][0]
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=LAUNCH_ARGS)
        page = browser.new_page(viewport={"width": WIDTH, "height": HEIGHT})
        page.set_default_timeout(SLOW)
        page.goto(f"{app_url}/gallery")
        expect(page.get_by_text("Large fonts", exact=True)).to_be_visible(timeout=SLOW)
        settle(page)
        upload(page, example.map_path, example.model_path)
        expect(page.get_by_text("map.mrc + model.cif").first).to_be_visible(timeout=SLOW)
        settle(page)
        card = gallery_card(page, example.key)
        card.get_by_role("button", name="Open in the dashboard").click()
        settle(page)
        question = page.locator(".st-key-qs-teach-switch-question")
        expect(question).to_be_visible()
        assert in_view(page, question), "the question is asked out of sight"
        shot(page, "40_switch_question")
        question.get_by_role("button", name="Switch", exact=True).click()
        settle(page)
        expect(page.get_by_text(example.title).first).to_be_visible()
        expect(card.get_by_role("button", name="Shown in the dashboard")).to_be_disabled()
        shot(page, "41_switched")
        page.get_by_role("button", name="Back to my files").click()
        settle(page)
        expect(page.get_by_text("map.mrc + model.cif").first).to_be_visible()
        shot(page, "42_back_to_files")
        browser.close()
