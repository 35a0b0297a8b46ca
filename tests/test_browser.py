"""Reports as a manager's browser sees them: offline, no errors, every chart drawn, data masked.

Runs headless Chromium (Debian's ``chromium``, with ``fonts-noto-cjk`` for Chinese) through
Playwright with every network request blocked and recorded. Checks the reports rendered by the
test session (never what an earlier ``make reports`` left in ``reports/``). Screenshots go to
``test-artifacts/screenshots/``. Without Chromium the tests skip, saying how to install it, unless
``SEATSCORE_REQUIRE_BROWSER=1`` (set by ``.ci/run``): then they fail.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import shutil
from pathlib import Path

import pytest

from seatscore.batch import render
from seatscore.core import config
from seatscore.ledgers import store as db
from seatscore.simulation.demo import write_demo_data

from helpers import ledger

pytestmark = pytest.mark.browser

MAX_REPORT_BYTES = 300 * 1024
"""A month's report at most 300 KB (one stylesheet per table style, inline SVG charts)."""
MAX_PAGE_BYTES = 2 * 1024 * 1024
"""The comparison page, which holds every contract."""
MAX_PDF_PAGES = 8
WIDTHS = (1280, 390)
"""A desktop and a phone."""
ARTIFACTS = config.ROOT / "test-artifacts" / "screenshots"
CHROMIUM = os.environ.get("SEATSCORE_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
NO_BROWSER = (
    "no Chromium found: install Debian's browser and Chinese fonts with "
    "`apt-get install chromium fonts-noto-cjk` (or set SEATSCORE_CHROMIUM to a Chromium binary)"
)


@pytest.fixture(scope="module")
def browser():
    if not Path(CHROMIUM).exists():
        if os.environ.get("SEATSCORE_REQUIRE_BROWSER") == "1":
            pytest.fail(NO_BROWSER)
        pytest.skip(NO_BROWSER)
    playwright = pytest.importorskip("playwright.sync_api")
    with playwright.sync_playwright() as p:
        b = p.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
            ],
        )
        yield b
        b.close()


def visit(
    browser, path: Path, screenshot: str | None = None, width: int = 1200, pdf: bool = False
) -> dict:
    """Open ``path`` offline at ``width`` px; return requests attempted, console errors, dialogs,
    charts, the page's height and width (``overflow``: how far it is wider than the window),
    its visible text, and with ``pdf`` the number of A4 pages it prints on."""
    page = browser.new_page(viewport={"width": width, "height": 900})
    seen: dict = {"requests": [], "errors": [], "dialogs": []}

    def block(route):
        url = route.request.url
        if url.startswith(("file:", "data:")):
            route.continue_()
        else:
            seen["requests"].append(url)
            route.abort()

    page.route("**/*", block)
    page.on("console", lambda m: seen["errors"].append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: seen["errors"].append(str(e)))
    page.on("dialog", lambda d: (seen["dialogs"].append(d.message), d.dismiss()))
    page.goto(path.resolve().as_uri())
    page.wait_for_load_state("load")
    seen["charts"] = page.evaluate(
        """() => [...document.querySelectorAll('svg')]
                 .map(e => e.tagName === 'IMG' ? e.naturalWidth : e.getBoundingClientRect().width)"""
    )
    seen["boxes"] = page.evaluate(
        """() => [...document.querySelectorAll('svg')]
                 .map(e => { const r = e.getBoundingClientRect(); return [r.width, r.height]; })"""
    )
    seen["height"] = page.evaluate("() => document.documentElement.scrollHeight")
    seen["overflow"] = page.evaluate("() => document.documentElement.scrollWidth") - width
    seen["text"] = page.evaluate("() => document.body.innerText")
    if pdf:
        printed = page.pdf(format="A4", print_background=True)
        seen["pages"] = len(re.findall(rb"/Type\s*/Page[^s]", printed))
    if screenshot:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / screenshot), full_page=True)
    page.close()
    return seen


def reports_to_check(rendered) -> list[Path]:
    _, results = rendered
    return [r.path for r in results.values() if r.ok]


def test_every_report_opens_offline(browser, rendered):
    paths = reports_to_check(rendered)
    assert len(paths) >= 5
    problems = []
    for path in paths:
        size = path.stat().st_size
        if size > MAX_REPORT_BYTES:
            problems.append(f"{path}: {size:,} bytes, over {MAX_REPORT_BYTES:,}")
        for width in WIDTHS:
            seen = visit(browser, path, f"{path.parent.name}-{path.stem}-{width}.png", width)
            charts = seen["charts"]
            if seen["requests"] or seen["errors"] or seen["dialogs"]:
                problems.append(f"{path}: {seen}")
            if not charts or min(charts) <= 0:
                problems.append(f"{path}: charts not drawn {charts}")
            if seen["overflow"] > 0:
                problems.append(f"{path}: {seen['overflow']} px wider than a {width} px window")
            problems += drawn_size_problems(path, seen)
    assert not problems, "\n".join(problems)


def test_one_report_per_contract_prints_on_at_most_8_pages(browser, rendered):
    # The rendered fixture holds one month of each contract.
    problems = []
    for path in reports_to_check(rendered):
        seen = visit(browser, path, pdf=True)
        if seen["pages"] > MAX_PDF_PAGES:
            problems.append(f"{path}: {seen['pages']} A4 pages")
    assert not problems, "\n".join(problems)


MAX_PAGE_PX = 40_000
"""A month's report at 1200 px is about 15,000 px tall; a chart drawn to infinity makes it
33,554,432 (Chromium's limit)."""
MAX_CHART_PX = (1_600, 2_400)


def drawn_size_problems(path: Path, seen: dict) -> list[str]:
    """What a person would see wrong: a page too tall to scroll, a chart drawn outside sane
    bounds (wider than the page allows, taller than a few screens)."""
    out = []
    if seen["height"] > MAX_PAGE_PX:
        out.append(f"{path}: the page is {seen['height']:,} px tall")
    for width, height in seen["boxes"]:
        if width > MAX_CHART_PX[0] or height > MAX_CHART_PX[1]:
            out.append(f"{path}: a chart is drawn {width:,.0f} × {height:,.0f} px")
    return out


def test_index_opens_offline(browser, rendered, contracts):
    out, _ = rendered
    for width in WIDTHS:
        seen = visit(browser, out / "index.html", f"index-{width}.png", width)
        assert not seen["requests"] and not seen["errors"]
        assert seen["charts"] and min(seen["charts"]) > 0  # the sparklines
        assert seen["overflow"] <= 0, f"{seen['overflow']} px wider than a {width} px window"
        # A person reads names, not ids.
        assert not [cid for cid in contracts if cid in seen["text"]]


HOSTILE = "<script>alert(1)</script> 占道经营严重，请回电13812345678，姓名：张三丰"


@pytest.fixture(scope="module")
def hostile_report(tmp_path_factory, contracts):
    """A karamay report whose ledger holds a ticket with a script and personal data."""
    root = tmp_path_factory.mktemp("hostile")
    write_demo_data(contracts, seed=11, out_dir=root / "demo")
    tickets = root / "demo" / "karamay-grid-2024" / "tickets.csv"
    row = ledger(
        "tickets",
        [
            {
                "contract_id": "karamay-grid-2024",
                "ticket_id": "EVIL-1",
                # the month's last ticket, so it heads the list of wrongly dispatched tickets
                "received_at": dt.datetime(2024, 10, 31, 23, 50),
                "dispatched_at": dt.datetime(2024, 10, 31, 23, 55),
                "priority": "ordinary",
                "category": "占道经营",
                "dispatch_correct": False,  # shown among the month's wrongly dispatched tickets
                "summary": HOSTILE,
                "caller_phone": "13812345678",
            }
        ],
    )
    with tickets.open("a", encoding="utf-8") as handle:
        handle.write(row.write_csv(include_header=False, datetime_format="%Y-%m-%d %H:%M:%S"))
    path = root / "seatscore.duckdb"
    db.build(path, contracts, demo_dir=root / "demo")
    (result,) = render.render_all(
        [render.RenderJob("karamay-grid-2024", "2024-10")], path, root / "reports", progress=False
    )
    assert result.ok, result.error
    return result.path


def test_ledger_text_is_escaped_and_masked(hostile_report):
    page = hostile_report.read_text(encoding="utf-8")
    assert "EVIL-1" in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "<script>alert(1)" not in page
    assert "138****5678" in page and "13812345678" not in page
    assert "张**" in page and "张三丰" not in page


def test_report_holds_no_other_contract(hostile_report, contracts):
    page = hostile_report.read_text(encoding="utf-8")
    for cid, contract in contracts.items():
        if cid != "karamay-grid-2024":
            assert (
                cid not in page
                and contract.buyer.name not in page
                and contract.vendor.name not in page
            )


def test_hostile_text_does_not_run(browser, hostile_report):
    seen = visit(browser, hostile_report, "hostile.png")
    assert seen["dialogs"] == [] and seen["errors"] == [] and seen["requests"] == []


def test_the_comparison_opens_offline(browser, demo_db, tmp_path):
    result = render.render_comparison(demo_db, tmp_path)
    assert result.ok, result.error
    seen = visit(browser, result.path, "comparison.png")
    assert not seen["requests"] and not seen["errors"] and not seen["dialogs"]
    assert seen["charts"] and min(seen["charts"]) > 0
    assert result.path.stat().st_size < MAX_PAGE_BYTES


SF311_ROWS = [
    # The first rows of SF311's published call-centre figures, as the real file writes them
    # (../shared/data/real/sf311_call_metrics_by_month_2007-2017.csv): used when that is absent.
    "Month,Calls Answered,Svc Level (% answered w/i 60 sec),Avg Speed Answer (sec),Transferred Calls %",
    "12/01/2015 12:00:00 AM,71042,43.7%,138,8.3%",
    "11/01/2015 12:00:00 AM,70038,43.8%,149,8.6%",
    "10/01/2015 12:00:00 AM,76463,46.9%,128,8.7%",
]


def test_a_public_sources_report_is_drawn_whole(browser, empty_db, tmp_path):
    # A source with no contract amount and no points sheet: no money chart to draw, and the page
    # must not become 33,554,432 px tall (issue: any city's real export).
    from seatscore.cli import main
    from seatscore.ledgers.ingest import ingest

    real = (
        config.ROOT.parent
        / "shared"
        / "data"
        / "real"
        / "sf311_call_metrics_by_month_2007-2017.csv"
    )
    source = real if real.exists() else tmp_path / "sf311.csv"
    if not real.exists():
        source.write_text("\n".join(SF311_ROWS) + "\n", encoding="utf-8")
    ingest([source], empty_db, profile_path=config.PROFILES_DIR / "sf311-call-metrics.yaml")
    out = tmp_path / "reports"
    args = [
        "render",
        "--db",
        str(empty_db),
        "--contract",
        "sf311-call-centre",
        "--month",
        "2015-12",
    ]
    assert main([*args, "--out", str(out), "--quiet", "--workers", "1"]) == 0
    path = out / "2015-12" / "sf311-call-centre.html"
    seen = visit(browser, path, "sf311-2015-12.png")
    assert not seen["requests"] and not seen["errors"]
    assert drawn_size_problems(path, seen) == []
    assert all(width > 0 for width in seen["charts"])
    # SF311 publishes monthly totals, no calls per interval: no Erlang C chart drawn from nothing.
    assert "本月没有工单，也没有来电台账，无法估算座席需求" in seen["text"]


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def jupyterlab(demo_db, tmp_path):
    """A JupyterLab server (this interpreter's) on a free port over copies of explore.ipynb and
    contract_report.ipynb whose parameters read the test's demo database (explore: one
    contract); yields the URL the notebooks' names are appended to."""
    import json
    import subprocess
    import sys
    import time
    import urllib.request

    for name in (config.EXPLORE_NOTEBOOK, config.REPORT_NOTEBOOK):
        notebook = json.loads(name.read_text(encoding="utf-8"))
        for cell in notebook["cells"]:
            source = "".join(cell["source"])
            if "parameters" in cell["metadata"].get("tags", []):
                source = source.replace('"../data/seatscore.duckdb"', json.dumps(str(demo_db)))
                source = source.replace(
                    "contract_ids: list = []", 'contract_ids: list = ["karamay-grid-2024"]'
                )
                cell["source"] = source
        (tmp_path / name.name).write_text(
            json.dumps(notebook, ensure_ascii=False), encoding="utf-8"
        )
    port = _free_port()
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "jupyter",
            "lab",
            "--allow-root",
            "--no-browser",
            f"--port={port}",
            "--ServerApp.token=",
            "--ServerApp.password=",
            f"--ServerApp.root_dir={tmp_path}",
            "--LabApp.news_url=None",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(120):
            try:
                urllib.request.urlopen(f"{base}/lab", timeout=2)
                break
            except OSError:
                time.sleep(0.5)
        yield f"{base}/lab/tree/"
    finally:
        server.terminate()
        server.wait(timeout=30)


def _lab_page(browser):
    """A page for the JupyterLab server on this machine with every other request blocked; the
    list of requests it tried to make elsewhere."""
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    outside: list[str] = []

    def block(route):
        url = route.request.url
        if url.startswith(("http://127.0.0.1", "data:", "blob:")):
            route.continue_()
        else:
            outside.append(url)
            route.abort()

    page.route("**/*", block)
    return page, outside


def test_explore_in_jupyterlab_brush_months_and_the_selected_tickets_follow(browser, jupyterlab):
    # As an analyst does it: open explore.ipynb in JupyterLab with every outside request blocked,
    # run all, note the selected tickets (all of them), drag across the months chart, run the
    # selection cell again: fewer tickets, and not one request left the machine.
    page, outside = _lab_page(browser)
    PlaywrightTimeout = pytest.importorskip("playwright.sync_api").TimeoutError
    count = re.compile(r"选中 ([\d,]+) 张工单")
    try:
        page.goto(jupyterlab + "explore.ipynb")
        page.wait_for_selector(".jp-Notebook .jp-Cell", timeout=90_000)
        page.wait_for_timeout(2_000)
        page.click("li.lm-MenuBar-item:has-text('Run')")
        page.click("li.lm-Menu-item:has-text('Run All Cells')")
        page.wait_for_function(
            "document.body.innerText.match(/选中 [\\d,]+ 张工单/)", timeout=180_000
        )
        before = int(count.search(page.inner_text("body")).group(1).replace(",", ""))
        page.wait_for_timeout(3_000)  # the cells after it (the measures) finish running
        chart = page.locator("svg.marks").first
        chart.wait_for(timeout=60_000)
        changed = (
            f"(() => {{ const m = document.body.innerText.match(/选中 ([\\d,]+) 张工单/);"
            f" return m && Number(m[1].replace(/,/g, '')) !== {before}; }})()"
        )
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        for _attempt in range(3):  # a loaded machine may take the first drag as a hover
            # The view's top edge at the top of the notebook panel: the months chart, the top
            # one, is then in sight at a known height.
            chart.evaluate("e => e.scrollIntoView({block: 'start'})")
            page.wait_for_timeout(1_000)
            box = chart.bounding_box()
            y = box["y"] + 90
            page.mouse.move(box["x"] + 200, y)
            page.mouse.down()
            page.mouse.move(box["x"] + 420, y, steps=10)
            page.mouse.up()
            page.wait_for_timeout(2_500)
            page.screenshot(path=str(ARTIFACTS / "jupyterlab-explore-brushing.png"))
            page.locator(".jp-Cell:has-text('explore.selection_values')").first.click()
            page.keyboard.press("Shift+Enter")
            try:
                page.wait_for_function(changed, timeout=30_000)
                break
            except PlaywrightTimeout:
                continue
        after = int(count.search(page.inner_text("body")).group(1).replace(",", ""))
        page.screenshot(path=str(ARTIFACTS / "jupyterlab-explore-brushed.png"))
    finally:
        page.close()
    assert 0 < after < before
    assert outside == [], outside


def test_the_report_notebook_in_jupyterlab_takes_another_contract_from_its_widgets(
    browser, jupyterlab, contracts
):
    # As an analyst does it, offline: run contract_report.ipynb (海淀 综合调度, 2026-07), pick
    # 克拉玛依 in the contract widget (its months follow: 2025年9月 first), run the cells below:
    # the report is 克拉玛依's, and no code was edited.
    page, outside = _lab_page(browser)
    PlaywrightTimeout = pytest.importorskip("playwright.sync_api").TimeoutError
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    first = contracts["haidian-dispatch-2026"].title_zh
    other = contracts["karamay-grid-2024"]
    try:
        page.goto(jupyterlab + "contract_report.ipynb")
        page.wait_for_selector(".jp-Notebook .jp-Cell", timeout=90_000, state="attached")
        # Under a loaded full run the kernel may still be starting: run all once it is idle,
        # and again if the first run all was taken before it was.
        idle = page.get_by_text("Python 3 (ipykernel) | Idle")
        heading = page.locator("h1", has_text=first).first
        for _attempt in range(2):
            idle.first.wait_for(timeout=120_000, state="attached")
            page.click("li.lm-MenuBar-item:has-text('Run')")
            page.click("li.lm-Menu-item:has-text('Run All Cells')")
            try:
                heading.wait_for(timeout=120_000, state="attached")
                break
            except PlaywrightTimeout:
                page.screenshot(path=str(ARTIFACTS / "jupyterlab-report-first-run.png"))
        heading.wait_for(timeout=1_000, state="attached")
        contract = page.locator(".widget-dropdown select").first
        label = f"{other.title_zh}（{other.buyer.name}）"
        contract.select_option(label=label)
        months = page.locator(".widget-dropdown select").nth(1)
        page.wait_for_function(
            "() => document.querySelectorAll('.widget-dropdown select')[1]"
            ".selectedOptions[0]?.text === '2025年9月'",
            timeout=30_000,
        )
        page.get_by_text("已选：合同 " + other.title_zh).first.wait_for(
            timeout=30_000, state="attached"
        )
        page.locator(".jp-Cell:has(.widget-dropdown) .jp-InputPrompt").first.click()
        page.click("li.lm-MenuBar-item:has-text('Run')")
        page.click("li.lm-Menu-item:has-text('Run Selected Cell and All Below')")
        page.locator("h1", has_text=other.title_zh).first.wait_for(
            timeout=180_000, state="attached"
        )
        # The last cell's output (its data sources) is 克拉玛依's too: every cell ran again.
        page.get_by_text("karamay-grid-2024/tickets.csv").first.wait_for(
            timeout=180_000, state="attached"
        )
        page.locator("h1", has_text=other.title_zh).first.scroll_into_view_if_needed()
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "jupyterlab-report-widgets.png"))
        assert months.locator("option").count() == 13  # 2024-09 … 2025-09, all ended
        # The tiles are laid out as in the HTML report (its fragments' stylesheet is shown).
        tiles = page.locator(".seatscore-tiles").first
        assert tiles.evaluate("e => getComputedStyle(e).display") == "flex"
    finally:
        page.close()
    assert outside == [], outside
