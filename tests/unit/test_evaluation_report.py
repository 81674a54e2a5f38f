"""`creditgraph evaluate` writes an HTML report (issue 10): its charts hold one mark per number
swept or fitted, it holds no party's name, and it renders in Debian's chromium without errors."""
import json
import os
import re
import stat

import pandas as pd
import pytest
from typer.testing import CliRunner

from creditgraph.base.settings import get_settings
from creditgraph.cli import app
from creditgraph.linkage import sweep
from creditgraph.synth.generate import generate

CHROMIUM = "/usr/bin/chromium"


@pytest.fixture(scope="module")
def evaluated(tmp_path_factory):
    """A small city resolved and evaluated through the CLI, the report written with --html."""
    root = tmp_path_factory.mktemp("report")
    old = os.environ.get("CREDITGRAPH_DATA")
    os.environ["CREDITGRAPH_DATA"] = str(root / "data")
    get_settings.cache_clear()
    try:
        generate(root / "city", 120, 180, seed=11)
        runner = CliRunner()
        resolved = runner.invoke(app, ["resolve", "--manifest", str(root / "city" / "manifest.yaml"),
                                       "--out", str(root / "out")])
        assert resolved.exit_code == 0, resolved.output
        html = root / "report" / "eval.html"
        result = runner.invoke(app, ["evaluate", "--truth", str(root / "city" / "truth"), "--from",
                                     str(root / "out"), "--html", str(html)])
        assert result.exit_code == 0, result.output
        assert str(html) in result.output.replace("\n", "")
    finally:
        os.environ.pop("CREDITGRAPH_DATA") if old is None else os.environ.update(CREDITGRAPH_DATA=old)
        get_settings.cache_clear()
    return root, html


def _expected(root) -> dict:
    """Per kind: (thresholds swept for precision-recall, for the queue, levels of the model)."""
    report = json.loads((root / "out" / "run_report.json").read_text(encoding="utf-8"))
    out = {}
    for kind, s in sweep.load(root / "out").items():
        levels = sum(len(v) for v in report["linkage"][kind]["model"]["weights"].values())
        out[kind] = (len(sweep.thresholds(s.match_threshold)),
                     len(sweep.thresholds(s.review_threshold, s.match_threshold)), levels)
    return out


def test_the_report_is_private_and_holds_no_names(evaluated):
    root, html = evaluated
    assert stat.S_IMODE(html.stat().st_mode) == 0o600
    text = html.read_text(encoding="utf-8")
    names = pd.read_csv(root / "out" / "mentions.csv", dtype=str)["name"].dropna()
    assert not [n for n in set(names) if len(n) >= 2 and n in text]
    vault = pd.read_csv(root / "out" / "identity_vault.csv", dtype=str)["id_number"]
    assert not [v for v in vault if v in text]
    assert "http://" not in text.replace("http://www.w3.org/2000/svg", "") and "https://" not in text


def test_each_chart_has_a_mark_per_number(evaluated):
    root, html = evaluated
    text = html.read_text(encoding="utf-8")
    for kind, (swept, queued, levels) in _expected(root).items():
        section = re.search(rf'<section class="kind" data-kind="{kind}">(.*?)</section>', text, re.S).group(1)
        charts = dict(re.findall(r'data-chart="([a-z-]+)"(.*?)</svg>', section, re.S))
        assert charts["precision-recall"].count('class="point"') == 4 * swept  # P, R, B³ P, B³ R
        assert charts["review-queue"].count('class="point"') == queued
        assert charts["weights"].count('<rect class="bar') == levels
        assert section.count('class="threshold"') == 3  # match in use; review in use and the match cap


def test_the_default_report_lands_beside_evaluation_json(evaluated, tmp_path, monkeypatch):
    root, _ = evaluated
    monkeypatch.setenv("CREDITGRAPH_DATA", str(tmp_path / "data"))
    get_settings.cache_clear()
    try:
        result = CliRunner().invoke(app, ["evaluate", "--truth", str(root / "city" / "truth"), "--from",
                                          str(root / "out"), "--json"])
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 0, result.output
    assert (root / "out" / "evaluation.html").is_file() and (root / "out" / "evaluation.json").is_file()


def test_an_output_without_scored_pairs_says_so(evaluated, tmp_path):
    from creditgraph import render
    from creditgraph.linkage import report
    from creditgraph.linkage.evaluate import evaluate
    import shutil
    root, _ = evaluated
    old = shutil.copytree(root / "out", tmp_path / "old")
    (old / sweep.FILE).unlink()
    mentions, truth = render.evaluation_inputs(root / "city" / "truth", old)
    page = report.build(evaluate(mentions, truth), old, report.truth_by_mention(mentions, truth), "truth")
    assert page.count("run resolve again for the threshold charts") == 2
    assert 'data-chart="weights"' in page and 'data-chart="precision-recall"' not in page


@pytest.mark.browser
@pytest.mark.skipif(not os.path.exists(CHROMIUM), reason="apt-get install chromium")
def test_the_report_renders_in_chromium(evaluated, tmp_path):
    from playwright.sync_api import expect, sync_playwright
    root, html = evaluated
    expected = _expected(root)
    shot = tmp_path / "evaluation.png"
    errors = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--headless", "--no-sandbox", "--disable-gpu"])
        try:
            page = browser.new_page(viewport={"width": 1100, "height": 900})
            page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.on("request", lambda r: errors.append(r.url) if not r.url.startswith("file://") else None)
            page.goto(html.as_uri())
            for kind, (swept, queued, levels) in expected.items():
                section = page.locator(f'section[data-kind="{kind}"]')
                expect(section.locator('svg[data-chart="precision-recall"] circle.point')).to_have_count(4 * swept)
                expect(section.locator('svg[data-chart="review-queue"] circle.point')).to_have_count(queued)
                bars = section.locator('svg[data-chart="weights"] rect.bar')
                expect(bars).to_have_count(levels)
                assert bars.first.bounding_box()["width"] > 0
                assert section.locator('svg[data-chart="precision-recall"]').bounding_box()["height"] > 200
            page.screenshot(path=str(shot), full_page=True)
        finally:
            browser.close()
    assert errors == []
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 10_000
