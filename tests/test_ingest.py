"""Ingest (seatscore ingest): CSV and Excel ledgers as people keep them, quarantine, no loss, no
duplicates, corrected files, interrupted loads, and the two real datasets through their profiles.

Contract facts used (params/contracts/karamay-grid-2024.yaml, from seed 004's sister contract):
service period 2024-09-20 – 2025-09-19 (一 (二)); posts assessor 测评岗, emergency 应急岗, seat
坐席岗; rule items wrong_report 测评错报 0.5 points per case (附件2 二 (一)) and
wrong_report_serious 错报案件造成严重后果, discretionary 5–15 points (附件2 二 (一)).
"""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from pathlib import Path

import duckdb
import openpyxl
import pytest

from seatscore.cli import main
from seatscore.core import config
from seatscore.core.errors import IngestError
from seatscore.ledgers import store as db
from seatscore.ledgers.ingest import ingest
from seatscore.terms.contract_files import load_contracts

K = "karamay-grid-2024"
REAL = Path(__file__).resolve().parents[2] / "shared" / "data" / "real"
SF311 = REAL / "sf311_call_metrics_by_month_2007-2017.csv"
TIPDM = REAL / "tipdm2020C_fujian4_messages_with_replies.xlsx"


def rows(path: Path, sql: str) -> list[tuple]:
    with duckdb.connect(str(path), read_only=True) as con:
        return con.sql(sql).fetchall()


def snapshot(path: Path) -> dict[str, list[tuple]]:
    """Every row of every table, for "the database did not change"."""
    tables = [*db.LEDGER_TABLES, "loads", "quarantine", "contracts"]
    return {t: sorted(map(str, rows(path, f"SELECT * FROM {t}"))) for t in tables}


def write_csv(path: Path, text: str, encoding: str = "utf-8") -> Path:
    path.write_bytes(text.encode(encoding))
    return path


# ---------------------------------------------------------------- clean files


def test_clean_excel_with_chinese_headers_title_row_and_merged_dates(empty_db, tmp_path):
    # A staffing sheet as a vendor keeps it: a title row, Chinese headers, a 序号 counter, the date
    # merged down over the three posts, the posts by their Chinese names, a count stored as 3.0.
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "10月考勤"
    sheet.append(["克拉玛依 2024年10月 人员在岗情况"])
    sheet.append(["序号", "日期", "岗位", "应到人数", "实到人数", "备注"])
    sheet.append([1, dt.date(2024, 10, 8), "测评岗", 4, 4, None])
    sheet.append([2, None, "应急岗", 2, 2.0, None])
    sheet.append([3, None, "坐席岗", 10, 9, "1人病假"])
    sheet.append([4, "2024年10月9日", "seat", "10", " 10 ", None])
    sheet.merge_cells("B3:B5")
    path = tmp_path / "考勤.xlsx"
    book.save(path)

    [result] = ingest([path], empty_db, kind="staffing", contract_id=K)

    assert (result.rows_read, result.loaded, result.rejected) == (4, 4, 0)
    assert result.merged_cells == 2 and result.sheet == "10月考勤"
    loaded = rows(
        empty_db,
        "SELECT service_date, post_id, required, present, note, source_sheet, source_row "
        "FROM staffing_daily ORDER BY source_row",
    )
    assert loaded == [
        (dt.date(2024, 10, 8), "assessor", 4, 4, None, "10月考勤", 3),
        (dt.date(2024, 10, 8), "emergency", 2, 2, None, "10月考勤", 4),
        (dt.date(2024, 10, 8), "seat", 10, 9, "1人病假", "10月考勤", 5),
        (dt.date(2024, 10, 9), "seat", 10, 10, None, "10月考勤", 6),
    ]


def test_gbk_csv_as_chinese_excel_saves_it(empty_db, tmp_path):
    # 测评错报 is wrong_report, fixed at 0.5 points per case (附件2 二 (一)): a 扣分 of 1 for two
    # cases is the rule's own total, so it is read as "computed from the rule" (empty).
    text = (
        "合同编号,日期,考核项目,次数,扣分,备注\n"
        f"{K},2024/10/8,测评错报,2,1,两件错报\n"
        f"{K},2024-10-09,wrong_report_serious,1,8,造成投诉\n"
    )
    path = write_csv(tmp_path / "扣分台账.csv", text, encoding="gbk")

    [result] = ingest([path], empty_db, kind="deductions")

    assert (result.loaded, result.rejected) == (2, 0)
    assert rows(
        empty_db,
        "SELECT event_date, item_id, occurrences, assessed_points, note FROM deduction_events "
        "ORDER BY event_date",
    ) == [
        (dt.date(2024, 10, 8), "wrong_report", 2, None, "两件错报"),
        (dt.date(2024, 10, 9), "wrong_report_serious", 1, Decimal("8.00"), "造成投诉"),
    ]


def test_utf8_with_bom_tickets(empty_db, tmp_path):
    text = (
        "\ufeff工单编号,受理时间,派发时间,办结时间,紧急程度,问题类别,来电号码\n"
        "T1,2024/10/8 9:00,2024/10/8 9:05,2024/10/9 10:00,一般,市容环境,13812345678\n"
        "T2,2024年10月9日 10:00,,,紧急,供水,\n"
    )
    path = write_csv(tmp_path / "tickets.csv", text)
    [result] = ingest([path], empty_db, kind="tickets", contract_id=K)
    assert result.loaded == 2
    assert rows(
        empty_db, "SELECT ticket_id, received_at, priority, closed_at FROM tickets ORDER BY 1"
    ) == [
        ("T1", dt.datetime(2024, 10, 8, 9, 0), "ordinary", dt.datetime(2024, 10, 9, 10, 0)),
        ("T2", dt.datetime(2024, 10, 9, 10, 0), "urgent", None),
    ]


# ---------------------------------------------------------------- every error, quarantined


def test_each_error_is_quarantined_with_its_reason_and_good_rows_load(empty_db, tmp_path):
    text = (
        "工单编号,受理时间,办结时间,紧急程度,问题类别,合同编号\n"
        f"G1,2024-10-08 09:00,2024-10-08 12:00,一般,供水,{K}\n"  # row 2: good
        f"B1,2024-13-45 09:00,,一般,供水,{K}\n"  # row 3: impossible date
        f"B2,2024-10-08 09:00,,一般,,{K}\n"  # row 4: category empty
        f"B3,2024-10-08 09:00,2024-10-07 09:00,一般,供水,{K}\n"  # row 5: closed before received
        f"B4,2023-01-05 09:00,,一般,供水,{K}\n"  # row 6: before the service period
        "B5,2024-10-08 09:00,,一般,供水,nobody-2024\n"  # row 7: unknown contract
        f"G1,2024-10-08 09:00,2024-10-08 12:00,一般,供水,{K}\n"  # row 8: repeats row 2
        f"D1,2024-10-08 10:00,,一般,供水,{K}\n"  # rows 9, 10: same ticket, other values
        f"D1,2024-10-08 11:00,,一般,供水,{K}\n"
        f"G2,2024-10-09 09:00,,普通,供水,{K}\n"  # row 11: good
        f"B6,2024/10/8,,一般,供水,{K}\n"  # row 12: a date where a time is due
    )
    path = write_csv(tmp_path / "tickets.csv", text)
    [result] = ingest([path], empty_db, kind="tickets", quarantine_dir=tmp_path / "q")

    assert result.rows_read == 11 and result.loaded == 2 and result.rejected == 9
    assert rows(empty_db, "SELECT ticket_id, source_row FROM tickets ORDER BY 2") == [
        ("G1", 2),
        ("G2", 11),
    ]
    found = rows(
        empty_db,
        "SELECT source_row, column_name, value, code FROM quarantine ORDER BY source_row",
    )
    assert found == [
        (3, "受理时间", "2024-13-45 09:00", "unreadable"),
        (4, "问题类别", None, "required"),
        (5, "办结时间", "2024-10-07 09:00", "rule"),
        (6, "受理时间", "2023-01-05 09:00", "outside_period"),
        (7, "合同编号", "nobody-2024", "unknown_contract"),
        (8, "工单编号", "G1", "duplicate"),
        (9, "工单编号", "D1", "conflict"),
        (10, "工单编号", "D1", "conflict"),
        (12, "受理时间", "2024/10/8", "date_only"),
    ]
    # The report file carries the same, with the file, and the whole row stays in the database.
    report = result.quarantine_file.read_text(encoding="utf-8-sig").splitlines()
    assert report[0] == "file,sheet,row,line,key,column,value,code,reason"
    assert ",,3,3,B1,受理时间,2024-13-45 09:00,unreadable," in report[1]  # row, line, ticket
    assert len(report) == 10 and report[1].endswith(
        'cannot read as a time (2025-10-01 08:05[:00], 2025/10/1 8:05, 2025-10-01T08:05:00[.000][+08:00])"'
    )
    [(raw,)] = rows(empty_db, "SELECT row_json FROM quarantine WHERE source_row = 7")
    assert json.loads(raw)["合同编号"] == "nobody-2024"
    assert "a date without a time of day" in report[9]


def test_excel_date_cells_are_midnight_and_date_text_is_not_a_time(empty_db, tmp_path):
    # An Excel date cell is a day number, 00:00 of that day (a real ticket at midnight looks the
    # same); the text 2024/10/8 states no time and is rejected. A staffing date cell is a date.
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["工单编号", "受理时间", "紧急程度", "问题类别"])
    sheet.append(["M1", dt.date(2024, 10, 8), "一般", "供水"])
    sheet.append(["M2", dt.datetime(2024, 10, 8, 0, 0), "一般", "供水"])
    sheet.append(["M3", dt.datetime(2024, 10, 8, 9, 30), "一般", "供水"])
    sheet.append(["M4", "2024/10/8", "一般", "供水"])
    path = tmp_path / "工单.xlsx"
    book.save(path)
    [result] = ingest([path], empty_db, kind="tickets", contract_id=K)
    assert (result.loaded, result.rejected) == (3, 1)
    assert rows(empty_db, "SELECT ticket_id, received_at FROM tickets ORDER BY 1") == [
        ("M1", dt.datetime(2024, 10, 8, 0, 0)),
        ("M2", dt.datetime(2024, 10, 8, 0, 0)),
        ("M3", dt.datetime(2024, 10, 8, 9, 30)),
    ]
    assert rows(empty_db, "SELECT source_row, value, code FROM quarantine") == [
        (5, "2024/10/8", "date_only")
    ]


def test_counts_fractional_negative_and_percent_shares(empty_db, tmp_path):
    staffing = (
        "日期,岗位,应到人数,实到人数\n"
        "2024-10-08,seat,10,9.5\n"  # row 2: half a person
        "2024-10-08,assessor,4,-1\n"  # row 3: negative
        "2024-10-08,emergency,2,2\n"  # row 4: good
    )
    [result] = ingest(
        [write_csv(tmp_path / "s.csv", staffing)], empty_db, kind="staffing", contract_id=K
    )
    assert result.loaded == 1
    assert rows(empty_db, "SELECT source_row, code, reason FROM quarantine ORDER BY 1") == [
        (2, "unreadable", "cannot read as a whole number"),
        (3, "rule", "must not be negative"),
    ]
    # Shares: "43.7%" and 43.7 in a column of percents are 0.437; 0.5 among percents is
    # ambiguous (0.5 % or 50 %?); a column of plain numbers all ≤ 1 is shares already.
    kpis = (
        "月份,指标,数值\n"
        "2024-10,callback_rate,43.7%\n"
        "2024-11,callback_rate,43.7\n"
        "2024-12,callback_rate,0.5\n"
        "2024-10,satisfaction_rate,0.9\n"
        "2024-11,satisfaction_rate,0.95\n"
    )
    [result] = ingest([write_csv(tmp_path / "k.csv", kpis)], empty_db, kind="kpis", contract_id=K)
    assert rows(empty_db, "SELECT month, metric, value FROM kpi_monthly ORDER BY 2, 1") == [
        ("2024-10", "callback_rate", 0.437),
        ("2024-11", "callback_rate", 0.437),
        ("2024-10", "satisfaction_rate", 0.9),
        ("2024-11", "satisfaction_rate", 0.95),
    ]
    assert rows(empty_db, "SELECT source_row, code FROM quarantine WHERE path LIKE '%k.csv'") == [
        (4, "ambiguous_percent")
    ]


def test_unknown_column_stops_the_file_and_writes_nothing(empty_db, tmp_path):
    before = snapshot(empty_db)
    path = write_csv(
        tmp_path / "t.csv",
        "工单编号,受理时间,紧急程度,问题类别,神秘列\nT1,2024-10-08 09:00,一般,供水,x\n",
    )
    with pytest.raises(IngestError, match=r"unknown column\(s\) '神秘列' \(column E\)"):
        ingest([path], empty_db, kind="tickets", contract_id=K)
    assert snapshot(empty_db) == before


# ---------------------------------------------------------------- no loss, no duplicates


def test_same_file_twice_changes_nothing(empty_db, tmp_path):
    path = write_csv(
        tmp_path / "t.csv",
        f"合同编号,工单编号,受理时间,紧急程度,问题类别\n{K},T1,2024-10-08 09:00,一般,供水\n",
    )
    ingest([path], empty_db, kind="tickets")
    before = snapshot(empty_db)
    [again] = ingest([path], empty_db, kind="tickets")
    assert again.status == "unchanged" and snapshot(empty_db) == before
    # The same rows under another file name: identical rows are already there, none doubles.
    copy = write_csv(
        tmp_path / "copy.csv", path.read_text() + f"{K},T2,2024-10-09 09:00,一般,供水\n"
    )
    [other] = ingest([copy], empty_db, kind="tickets")
    assert (other.loaded, other.already, other.rejected) == (1, 1, 0)
    assert rows(empty_db, "SELECT count(*) FROM tickets") == [(2,)]


def test_corrected_file_replaces_its_rows_and_keeps_the_history(empty_db, tmp_path):
    path = tmp_path / "扣分.csv"
    write_csv(
        path,
        f"合同编号,日期,考核项目,次数\n{K},2024-10-08,wrong_report,2\n{K},2024-10-09,wrong_report,1\n",
    )
    [first] = ingest([path], empty_db, kind="deductions")
    write_csv(path, f"合同编号,日期,考核项目,次数\n{K},2024-10-08,wrong_report,3\n")
    [second] = ingest([path], empty_db, kind="deductions", replaces=first.load_id)

    assert second.status == "replaced" and second.replaced_load == first.load_id
    assert rows(empty_db, "SELECT event_date, occurrences FROM deduction_events") == [
        (dt.date(2024, 10, 8), 3)
    ]
    history = rows(empty_db, "SELECT load_id, rows, replaced_by FROM loads ORDER BY load_id")
    assert history == [(first.load_id, 2, second.load_id), (second.load_id, 1, None)]


def test_interrupted_ingest_leaves_the_database_as_it_was(empty_db, tmp_path, monkeypatch):
    good = write_csv(
        tmp_path / "a.csv", f"合同编号,日期,考核项目,次数\n{K},2024-10-08,wrong_report,2\n"
    )
    ingest([good], empty_db, kind="deductions")
    before = snapshot(empty_db)
    calls = []
    real_insert = db.insert_frame

    def dies_on_the_second_insert(con, table, frame):
        calls.append(table)
        if len(calls) == 2:
            raise KeyboardInterrupt  # the operator's Ctrl-C, half-way through the writes
        real_insert(con, table, frame)

    monkeypatch.setattr(db, "insert_frame", dies_on_the_second_insert)
    corrected = write_csv(
        tmp_path / "a.csv", f"合同编号,日期,考核项目,次数\n{K},2024-10-08,wrong_report,5\n"
    )
    with pytest.raises(KeyboardInterrupt):
        ingest([corrected], empty_db, kind="deductions", replaces=1)
    assert len(calls) == 2 and snapshot(empty_db) == before


def test_cli_summary_and_exit_status(empty_db, tmp_path, capsys):
    path = write_csv(
        tmp_path / "s.csv",
        "日期,岗位,应到人数,实到人数\n2024-10-08,seat,10,9\n2024-10-08,seat,10,8\n",
    )
    code = main(["ingest", str(path), "--db", str(empty_db), "--kind", "staffing", "--contract", K])
    out = capsys.readouterr().out
    assert code == 1  # a row was rejected; the other loaded
    assert "2 row(s) read; loaded 0" in out and "rejected, conflict: 2" in out
    assert (
        "total: 2 row(s) read, 0 loaded, 0 already in the database, 2 rejected (conflict 2)" in out
    )


# ---------------------------------------------------------------- the real datasets

needs_real = pytest.mark.skipif(
    not SF311.exists() or not TIPDM.exists(), reason=f"real data not present at {REAL}"
)


@needs_real
def test_sf311_through_its_profile(empty_db, tmp_path):
    [result] = ingest(
        [SF311], empty_db, profile_path=config.PROFILES_DIR / "sf311-call-metrics.yaml"
    )
    # 129 rows, 128 distinct months: May 2015 twice with different figures (the data's README).
    assert result.rows_read == 129
    months = rows(
        empty_db,
        "SELECT count(DISTINCT month) FROM (SELECT month FROM kpi_monthly UNION ALL "
        "SELECT strftime(strptime(json_extract_string(row_json, '$.Month'), "
        "'%m/%d/%Y %I:%M:%S %p'), '%Y-%m') FROM quarantine)",
    )
    assert months == [(128,)]
    # Both May 2015 rows are in quarantine (4 figures each), none is in the ledger.
    assert rows(empty_db, "SELECT DISTINCT source_row, code FROM quarantine ORDER BY 1") == [
        (9, "conflict"),
        (104, "conflict"),
    ]
    assert rows(empty_db, "SELECT count(*) FROM kpi_monthly WHERE month = '2015-05'") == [(0,)]
    # December 2015, the file's row 2: 71042, 43.7%, 138, 8.3%.
    assert rows(
        empty_db,
        "SELECT metric, value FROM kpi_monthly WHERE month = '2015-12' ORDER BY metric",
    ) == [
        ("answered_within_60s_share", 0.437),
        ("average_speed_of_answer_s", 138.0),
        ("calls_answered", 71042.0),
        ("transferred_share", 0.083),
    ]
    # The params state only what is known; the contract row is there, the amount not stated.
    assert rows(
        empty_db,
        "SELECT amount_cny, service_start FROM contracts WHERE contract_id = 'sf311-call-centre'",
    ) == [(None, dt.date(2007, 4, 1))]


@needs_real
def test_tipdm_messages_through_their_profile(empty_db):
    [result] = ingest([TIPDM], empty_db, profile_path=config.PROFILES_DIR / "tipdm-messages.yaml")
    assert (result.loaded, result.rejected) == (2816, 0)
    assert rows(
        empty_db,
        "SELECT count(*), count(caller_phone), min(source_row), max(source_row) FROM tickets "
        "WHERE contract_id = 'tipdm-messages'",
    ) == [(2816, 0, 2, 2817)]
    # The file's row 2: 留言编号 2549, 留言主题 "A2区景蓉华苑物业管理有问题", 留言时间
    # 2019/4/25 9:32:09, 答复时间 2019/5/10 14:56:53; the tree (attachment 1) has 城乡建设 >
    # 住房保障与房地产 > 物业服务, and 物业服务 without its generic ending 服务 is 物业.
    assert rows(
        empty_db,
        "SELECT ticket_id, received_at, replied_at, summary, district, category, priority "
        "FROM tickets WHERE source_row = 2",
    ) == [
        (
            "2549",
            dt.datetime(2019, 4, 25, 9, 32, 9),
            dt.datetime(2019, 5, 10, 14, 56, 53),
            "A2区景蓉华苑物业管理有问题",
            "A2区",
            "城乡建设",
            "ordinary",
        )
    ]
    # Row 1141 (留言编号 27610): 留言时间 2018/3/19 10:05:04, 答复时间 the bare date 2018/4/24,
    # read as 00:00 because the profile says so (formats: replied_at).
    assert rows(
        empty_db, "SELECT ticket_id, received_at, replied_at FROM tickets WHERE source_row = 1141"
    ) == [("27610", dt.datetime(2018, 3, 19, 10, 5, 4), dt.datetime(2018, 4, 24, 0, 0))]


@needs_real
@pytest.mark.notebook
def test_sf311_is_reported_like_a_contract_with_its_rules_not_assessable(empty_db, tmp_path):
    ingest([SF311], empty_db, profile_path=config.PROFILES_DIR / "sf311-call-metrics.yaml")
    out = tmp_path / "reports"
    code = main(
        [
            "render",
            "--db",
            str(empty_db),
            "--contract",
            "sf311-call-centre",
            "--month",
            "2015-12",
            "--out",
            str(out),
            "--quiet",
            "--workers",
            "1",
        ]
    )
    assert code == 0
    page = (out / "2015-12" / "sf311-call-centre.html").read_text(encoding="utf-8")
    # The published figures of 2015-12 (the file's row 2), and no score or fee: none is stated.
    assert "71,042" in page and "43.70%" in page and "138 秒" in page and "8.30%" in page
    # SF311 publishes no tickets: its time-to-close section says there is nothing to measure.
    assert "没有可计算用时的工单" in page
    # A public source is not a contract: a service-performance report, no money, score or parties.
    assert "服务表现报告" in page and "数据来源：City and County of San Francisco" in page
    for contract_only in (
        "本月考核与费用",
        "扣分与扣款明细",
        "终止条件",
        "付款进度",
        "甲方",
        "乙方：",
        "需关注事项",
    ):
        assert contract_only not in page, contract_only
    # The index says per source where its data come from: SF311's are public, not simulated.
    index = (out / "index.html").read_text(encoding="utf-8")
    assert "· 公开数据" in index and "模拟数据" not in index


NYC311 = REAL / "nyc311_sample_1000_2024-04-15.csv"


@pytest.mark.notebook
@pytest.mark.skipif(not NYC311.exists(), reason=f"real data not present at {REAL}")
def test_a_real_nyc_311_export_from_a_fresh_database_reads_as_the_sample_it_is(tmp_path, capsys):
    # The NYC Open Data export as downloaded, through params/profiles/nyc311-requests.yaml, into
    # a database that does not exist yet; no code changed for it. 1,000 requests, 292 closed;
    # 70 whose resolution text calls them a duplicate (64 still Open, 6 Closed at once).
    fresh = tmp_path / "fresh.duckdb"
    profile = str(config.PROFILES_DIR / "nyc311-requests.yaml")
    assert main(["ingest", str(NYC311), "--profile", profile, "--db", str(fresh)]) == 0
    assert rows(fresh, "SELECT count(*), count(closed_at) FROM tickets") == [(1000, 292)]
    assert rows(
        fresh, "SELECT status, count(*), count(closed_at) FROM tickets GROUP BY 1 ORDER BY 1"
    ) == [("closed", 287, 286), ("duplicate", 70, 6), ("open", 643, 0)]
    capsys.readouterr()
    assert main(["kpis", "nyc311-sample", "--month", "2024-04", "--db", str(fresh), "--json"]) == 0
    figures = {r["key"]: r for r in json.loads(capsys.readouterr().out)["metrics"]}
    assert figures["set_aside"]["value"] == 70
    # Replied or closed ÷ requests not set aside: (292 − 6) / (1,000 − 70) = 286 / 930.
    assert (figures["processing_rate"]["numerator"], figures["processing_rate"]["tickets"]) == (
        286,
        930,
    )
    assert figures["close_hours_median"]["tickets"] == 286
    assert figures["response_rate"]["value"] is None  # no reply column: undefined, not 0
    out = tmp_path / "reports"
    render = ["render", "--db", str(fresh), "--contract", "nyc311-sample", "--month", "2024-04"]
    assert main([*render, "--out", str(out), "--quiet", "--workers", "1"]) == 0
    page = (out / "2024-04" / "nyc311-sample.html").read_text(encoding="utf-8")
    # Its times are New York's; it is a few hours' sample, so no seats are estimated from it.
    assert "当地时间（America/New_York），不是北京时间" in page
    assert "样本数据：纽约时间 2024-04-15 22:51 至 04-16 03:03" in page
    assert "不据以估算座席需求" in page and "所需座席" not in page
    # Rates no request can yield are one line, not five rows; no column of 000's prompts.
    assert "无从计算（无定义，不是 0）：响应率、解决率、满意率、回访率、派单准确率" in page
    assert "工单未记录即时提示" in page and ">即时提示<" not in page
    assert "1,000 张工单中 70 张标为重复、转出或撤销（重复 70 张）" in page
    assert "其中 70 张为重复、转出或撤销，不计入办结等比率" in page  # on the first screen


def test_quarantine_names_the_text_line_and_the_ticket_when_a_cell_holds_line_breaks(
    empty_db, tmp_path
):
    # NYC 311 exports hold line breaks inside quoted cells: record 2 spans lines 2–4, so the
    # bad record 3 starts on text line 5. The report names both, and the ticket number.
    text = (
        "工单编号,受理时间,紧急程度,问题类别,诉求内容,合同编号\n"
        f'G1,2024-10-08 09:00,一般,供水,"第一行\n第二行\n第三行",{K}\n'
        f"B1,2024-13-45 09:00,一般,供水,一行,{K}\n"
    )
    path = write_csv(tmp_path / "tickets.csv", text)
    [result] = ingest([path], empty_db, kind="tickets", quarantine_dir=tmp_path / "q")
    assert (result.loaded, result.rejected) == (1, 1)
    assert rows(empty_db, "SELECT source_row, source_line, row_key FROM quarantine") == [
        (3, 5, "B1")
    ]
    report = result.quarantine_file.read_text(encoding="utf-8-sig").splitlines()
    assert ",,3,5,B1,受理时间," in report[1]


def test_the_schema_reference_lists_every_kind_column_and_chinese_header():
    # docs/reference/ledgers.md is generated from this at `make docs`; it must name every column
    # of every kind and every Chinese header ingest reads, so a user can find theirs.
    from seatscore.ledgers.kinds import KINDS, schema_markdown

    page = schema_markdown()
    for kind in KINDS.values():
        assert f"`{kind.name}` — `{kind.file_name}` → table `{kind.table}`" in page
        for column in kind.columns:
            assert f"`{column.name}`" in page
            assert all(alias in page for alias in column.aliases)


def test_unknown_rule_item_and_discretionary_points_out_of_range(empty_db, tmp_path):
    # wrong_report_serious is discretionary, 5–15 points (附件2 二 (一)): 20 is outside it.
    text = (
        "日期,考核项目,次数,扣分\n"
        "2024-10-08,no_such_item,1,\n"
        "2024-10-08,wrong_report_serious,1,20\n"
        "2024-10-08,wrong_report_serious,1,15\n"
    )
    [result] = ingest(
        [write_csv(tmp_path / "d.csv", text)], empty_db, kind="deductions", contract_id=K
    )
    assert result.loaded == 1
    assert rows(
        empty_db, "SELECT source_row, column_name, code, reason FROM quarantine ORDER BY 1"
    ) == [
        (2, "考核项目", "reference", f"{K} has no rule item 'no_such_item'"),
        (3, "扣分", "reference", "20.00 is outside 5–15 (附件2 二 (一))"),
    ]


def test_a_value_under_no_header_stops_the_file(empty_db, tmp_path):
    # Row 2 has a sixth cell where the header has five: it is reported, not cut off.
    text = "日期,岗位,应到人数,实到人数,备注\n2024-10-08,seat,10,9,,迟到2人\n"
    with pytest.raises(IngestError, match=r"\(no header, column F\)"):
        ingest([write_csv(tmp_path / "s.csv", text)], empty_db, kind="staffing", contract_id=K)


def test_an_empty_sheet_beside_the_ledger_is_not_a_table(empty_db, tmp_path):
    # Excel's new workbooks carry empty sheets; "every sheet with data" must pass them by.
    book = openpyxl.Workbook()
    book.active.append(["日期", "岗位", "应到人数", "实到人数"])
    book.active.append([dt.date(2024, 10, 8), "seat", 10, 10])
    book.create_sheet("Sheet2")["C5"] = " "  # a stray space: a cell, but no value
    path = tmp_path / "s.xlsx"
    book.save(path)
    results = ingest([path], empty_db, kind="staffing", contract_id=K)
    assert [(r.sheet, r.loaded) for r in results] == [("Sheet", 1)]


def test_a_wide_export_is_found_by_its_profiles_renames(empty_db, tmp_path):
    # A 311-style export: 4 columns used of 10. The header row is the one holding every header
    # the profile renames, though most of its cells are other columns: the message then names
    # those columns (list them under ignore:), not "no header row found".
    other = [f"extra_{i}" for i in range(6)]
    header = ["unique_key", "created_date", "complaint_type", *other, "due_date"]
    body = ["T1", "2024-10-08T09:00:00.000", "Noise", *[""] * 6, "2024-10-10T09:00:00.000"]
    path = write_csv(tmp_path / "311.csv", ",".join(header) + "\n" + ",".join(body) + "\n")
    profile = tmp_path / "311.yaml"
    rename = (
        "kind: tickets\n"
        "rename: {unique_key: ticket_id, created_date: received_at, complaint_type: category, "
        "due_date: due_at}\n"
        f"constants: {{contract_id: {K}, priority: ordinary}}\n"
    )
    profile.write_text(rename, encoding="utf-8")
    with pytest.raises(IngestError, match=r"unknown column\(s\) 'extra_0' \(column D\)"):
        ingest([path], empty_db, profile_path=profile)
    profile.write_text(rename + f"ignore: [{', '.join(other)}]\n", encoding="utf-8")
    [result] = ingest([path], empty_db, profile_path=profile)
    assert (result.loaded, result.rejected) == (1, 0)
    assert rows(empty_db, "SELECT ticket_id, due_at FROM tickets") == [
        ("T1", dt.datetime(2024, 10, 10, 9, 0))
    ]


# ---------------------------------------------------------------- a city's year: batches


BATCH_TEXT = (
    "\ufeff2024年10月 工单导出\n"  # row 1: a title; the header is row 2
    "工单编号,受理时间,办结时间,紧急程度,问题类别,诉求内容,合同编号\n"
    f"G1,2024-10-08 09:00:00,2024-10-08 12:00:00,一般,供水,漏水,{K}\n"  # row 3
    f'G2,2024-10-08 09:30:00,,紧急,供水,"第一行\n第二行",{K}\n'  # row 4, lines 4–5
    "\n"  # row 5 (line 6): blank
    f"B1,2024-13-45 09:00,,一般,供水,,{K}\n"  # row 6, line 7: impossible date
    f"G1,2024-10-08 09:00:00,2024-10-08 12:00:00,一般,供水,漏水,{K}\n"  # row 7: repeats row 3
    f"D1,2024-10-08 10:00:00,,一般,供水,,{K}\n"  # rows 8, 9: one ticket, other values
    f"D1,2024-10-08 11:00:00,,一般,供水,,{K}\n"
    f"G3,2024/10/9 9:00,,普通,供水,,{K}\n"  # row 10: a time written another way
    f"B2,2024-10-09 09:00:00,2024-10-07 09:00:00,一般,供水,,{K}\n"  # row 11: closed before
    f"G4,2024-10-09 10:00:00,,一般,供水,,{K}\n"  # row 12
)


BATCH_REASONS = {"unreadable": 1, "duplicate": 1, "conflict": 2, "rule": 1}
"""Why BATCH_TEXT's rows are rejected: B1's date, G1 again, D1 twice, B2 closed before received."""


def _load(path: Path, db_path: Path, monkeypatch, batched: bool, tmp_path: Path):
    from seatscore.ledgers import ingest as module

    monkeypatch.setattr(module, "BATCH_FILE_BYTES", 0 if batched else 10**12)
    monkeypatch.setattr(module, "BATCH_BYTES", 100)  # 1–3 rows a batch: keys across batches
    return ingest([path], db_path, kind="tickets", quarantine_dir=tmp_path / "q")


def test_a_large_file_in_batches_loads_and_rejects_exactly_as_a_whole_file(tmp_path, monkeypatch):
    # Rows 3–12 in batches of 2: the repeat of row 3 comes in row 7 (another batch), the two D1
    # rows are in two batches, G2's summary spans two text lines (so B1, row 6, starts on line 7
    # after the blank line 6). Every figure is the same as a whole-file load of the same bytes.
    path = write_csv(tmp_path / "tickets.csv", BATCH_TEXT)
    results = {}
    for batched in (False, True):
        target = tmp_path / f"{batched}.duckdb"
        db.build(target, load_contracts(), demo_dir=None)
        [results[batched]] = _load(path, target, monkeypatch, batched, tmp_path)
    whole, batches = results[False], results[True]
    assert (batches.rows_read, batches.loaded, batches.rejected, batches.blank_rows) == (9, 4, 5, 1)
    assert (whole.rows_read, whole.loaded, whole.rejected, whole.blank_rows) == (9, 4, 5, 1)
    assert batches.reasons == whole.reasons == BATCH_REASONS
    quarantine = """SELECT source_row, source_line, row_key, column_name, value, code, reason,
                           row_json FROM quarantine ORDER BY source_row, column_name"""
    found = rows(tmp_path / "True.duckdb", quarantine)
    assert found == rows(tmp_path / "False.duckdb", quarantine)
    assert [r[:6] for r in found] == [
        (6, 7, "B1", "受理时间", "2024-13-45 09:00", "unreadable"),
        (7, 8, "G1", "工单编号", "G1", "duplicate"),
        (8, 9, "D1", "工单编号", "D1", "conflict"),
        (9, 10, "D1", "工单编号", "D1", "conflict"),
        (11, 12, "B2", "办结时间", "2024-10-07 09:00:00", "rule"),
    ]
    assert found[1][6] == "repeats row 3 (contract_id, ticket_id)"
    assert found[2][6].startswith("row(s) 9 give other values")
    assert json.loads(found[1][7])["诉求内容"] == "漏水"  # the row as written
    tickets = "SELECT * EXCLUDE (load_id) FROM tickets ORDER BY source_row"
    loaded = rows(tmp_path / "True.duckdb", tickets)
    assert loaded == rows(tmp_path / "False.duckdb", tickets)
    assert [(r[1], r[2]) for r in loaded] == [
        ("G1", dt.datetime(2024, 10, 8, 9, 0)),
        ("G2", dt.datetime(2024, 10, 8, 9, 30)),
        ("G3", dt.datetime(2024, 10, 9, 9, 0)),
        ("G4", dt.datetime(2024, 10, 9, 10, 0)),
    ]
    held = "SELECT row_sha1 FROM load_rows ORDER BY 1"
    assert rows(tmp_path / "True.duckdb", held) == rows(tmp_path / "False.duckdb", held)


def test_a_large_sheet_in_batches_loads_and_rejects_exactly_as_a_whole_sheet(tmp_path, monkeypatch):
    # The rows of BATCH_TEXT kept in Excel: the title merged over A1:G1, the header in row 2,
    # G3's receipt a real Excel time, 问题类别 merged down over rows 10–12 (G3, B2, G4: two cells
    # filled), G2's summary with a line break (a sheet's line is its row: B1 is on line 6).
    # In batches of 2 rows every figure is the same as the whole sheet's.
    import csv
    import io

    from seatscore.ledgers import ingest as module

    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "工单"
    for i, record in enumerate(csv.reader(io.StringIO(BATCH_TEXT.lstrip("\ufeff")))):
        for j, value in enumerate(record):
            sheet.cell(i + 1, j + 1, value or None)
    sheet["B10"] = dt.datetime(2024, 10, 9, 9, 0)
    sheet["E11"] = sheet["E12"] = None
    sheet.merge_cells("A1:G1")
    sheet.merge_cells("E10:E12")
    path = tmp_path / "工单.xlsx"
    book.save(path)
    results = {}
    for batched in (False, True):
        target = tmp_path / f"{batched}.duckdb"
        db.build(target, load_contracts(), demo_dir=None)
        monkeypatch.setattr(module, "BATCH_SHEET_ROWS", 2 if batched else 10**9)
        [results[batched]] = ingest([path], target, kind="tickets")
    whole, batches = results[False], results[True]
    for r in (whole, batches):
        assert (r.rows_read, r.loaded, r.rejected, r.blank_rows) == (9, 4, 5, 1)
        assert (r.sheet, r.merged_cells) == ("工单", 8)  # 6 of the title, 2 of the category
    assert batches.reasons == whole.reasons == BATCH_REASONS
    quarantine = """SELECT sheet, source_row, source_line, row_key, column_name, value, code,
                           reason, row_json FROM quarantine ORDER BY source_row, column_name"""
    found = rows(tmp_path / "True.duckdb", quarantine)
    assert found == rows(tmp_path / "False.duckdb", quarantine)
    assert [r[:7] for r in found] == [
        ("工单", 6, 6, "B1", "受理时间", "2024-13-45 09:00", "unreadable"),
        ("工单", 7, 7, "G1", "工单编号", "G1", "duplicate"),
        ("工单", 8, 8, "D1", "工单编号", "D1", "conflict"),
        ("工单", 9, 9, "D1", "工单编号", "D1", "conflict"),
        ("工单", 11, 11, "B2", "办结时间", "2024-10-07 09:00:00", "rule"),
    ]
    assert json.loads(found[3][8])["问题类别"] == "供水"  # the row as written, read again
    tickets = "SELECT * EXCLUDE (load_id) FROM tickets ORDER BY source_row"
    loaded = rows(tmp_path / "True.duckdb", tickets)
    assert loaded == rows(tmp_path / "False.duckdb", tickets)
    assert [(r[1], r[2], r[8]) for r in loaded] == [
        ("G1", dt.datetime(2024, 10, 8, 9, 0), "供水"),
        ("G2", dt.datetime(2024, 10, 8, 9, 30), "供水"),
        ("G3", dt.datetime(2024, 10, 9, 9, 0), "供水"),
        ("G4", dt.datetime(2024, 10, 9, 10, 0), "供水"),  # from the merged E10
    ]
    held = "SELECT row_sha1 FROM load_rows ORDER BY 1"
    assert rows(tmp_path / "True.duckdb", held) == rows(tmp_path / "False.duckdb", held)
    loads = "SELECT sheet, sha256, rows_read, rows_rejected FROM loads"
    assert rows(tmp_path / "True.duckdb", loads) == rows(tmp_path / "False.duckdb", loads)


def test_a_batched_load_checks_keys_against_the_database_and_is_all_or_nothing(
    empty_db, tmp_path, monkeypatch
):
    first = write_csv(
        tmp_path / "a.csv",
        "工单编号,受理时间,紧急程度,问题类别,合同编号\n"
        f"T1,2024-10-08 09:00:00,一般,供水,{K}\n"
        f"T2,2024-10-08 10:00:00,一般,供水,{K}\n",
    )
    _load(first, empty_db, monkeypatch, False, tmp_path)
    # The export of the next day repeats T1 as it was, gives T2 another category, adds T3.
    second = write_csv(
        tmp_path / "b.csv",
        "工单编号,受理时间,紧急程度,问题类别,合同编号\n"
        f"T1,2024-10-08 09:00:00,一般,供水,{K}\n"
        f"T2,2024-10-08 10:00:00,一般,排水,{K}\n"
        f"T3,2024-10-09 08:00:00,一般,供水,{K}\n",
    )
    [result] = _load(second, empty_db, monkeypatch, True, tmp_path)
    assert (result.loaded, result.already, result.rejected) == (1, 1, 1)
    [(code, reason)] = rows(
        empty_db, f"SELECT code, reason FROM quarantine WHERE load_id = {result.load_id}"
    )
    assert code == "conflict" and "a.csv row 3 (load 1); if this file corrects it" in reason
    # A value under no header past the rows read to find the header (here the first 100 bytes)
    # stops the file in its batch: nothing of it is written.
    from seatscore.ledgers import ingest as module

    monkeypatch.setattr(module, "_HEAD_BYTES", 100)
    before = snapshot(empty_db)
    bad = write_csv(
        tmp_path / "c.csv",
        "工单编号,受理时间,紧急程度,问题类别,合同编号\n"
        f"T4,2024-10-09 09:00:00,一般,供水,{K}\n"
        f"T5,2024-10-09 09:10:00,一般,供水,{K}\n"
        f"T6,2024-10-09 09:20:00,一般,供水,{K},多出的一格\n",
    )
    with pytest.raises(IngestError, match="row 4 has a value in column F, which has no header"):
        _load(bad, empty_db, monkeypatch, True, tmp_path)
    assert snapshot(empty_db) == before


def test_a_large_file_hashed_as_it_is_read_is_unchanged_the_second_time(
    empty_db, tmp_path, monkeypatch
):
    # Into a database with no load it could equal, a large file is hashed piece by piece as it
    # is read (a pass over 2.5 GB saved); the next time it is hashed first and found unchanged:
    # the two SHA-256s agree, and agree with hashlib's of the whole file.
    import hashlib

    path = write_csv(tmp_path / "tickets.csv", BATCH_TEXT)
    [first] = _load(path, empty_db, monkeypatch, True, tmp_path)
    [again] = _load(path, empty_db, monkeypatch, True, tmp_path)
    assert (first.status, first.loaded, again.status, again.same_as_load) == (
        "loaded",
        4,
        "unchanged",
        first.load_id,
    )
    assert rows(empty_db, "SELECT sha256 FROM loads") == [
        (hashlib.sha256(path.read_bytes()).hexdigest(),)
    ]


def test_a_large_gbk_file_cut_mid_row_loads_in_batches(empty_db, tmp_path, monkeypatch):
    # As Chinese Excel saves CSV (GB18030), and cut off: the last row has no line end.
    text = (
        "工单编号,受理时间,紧急程度,问题类别,合同编号\n"
        f"T1,2024-10-08 09:00:00,一般,供水,{K}\n"
        f"T2,2024-10-08 10:00:00,紧急,供水,{K}\n"
        f"T3,2024-10-08 11:00:00,一般,供水,{K}"
    )
    path = write_csv(tmp_path / "gbk.csv", text, encoding="gb18030")
    [result] = _load(path, empty_db, monkeypatch, True, tmp_path)
    assert (result.loaded, result.rejected, dict(result.reasons)) == (2, 1, {"truncated": 1})
    assert rows(empty_db, "SELECT ticket_id, priority FROM tickets ORDER BY 1") == [
        ("T1", "ordinary"),
        ("T2", "urgent"),
    ]
    assert not list(tmp_path.glob(".gbk.csv.*"))  # the UTF-8 copy is gone


def test_a_batched_load_hashes_every_kind_of_value_as_the_whole_file_does():
    # load_rows identifies a row by the SHA-1 of its values as text (kinds.row_sha1, Polars);
    # a large load hashes in DuckDB (ingest._row_text_sql). Every column of a ticket filled,
    # and one with every optional column empty: the same 40 hex digits.
    import duckdb

    from seatscore.ledgers import ingest as module
    from seatscore.ledgers.kinds import TICKETS, row_sha1
    from tests.helpers import ledger, ticket

    full = ticket(
        K,
        "T-全",
        "2024-10-08 09:00",
        dispatched_at="2024-10-08 09:05",
        replied_at="2024-10-08 10:00",
        closed_at="2024-10-09 16:30",
        due_at="2024-10-11 09:00",
        arrived_at="2024-10-08 09:40",
        district="南湖街道",
        channel="热线",
        callback_done=True,
        satisfied=False,
        dispatch_correct=True,
        summary='他说"有人在吗"\n第二行',
        caller_phone="13812345678",
        location="友谊路 1 号",
        case_class="city",
        category_group="6+N",
        direct_dispatch=False,
        resolved=True,
        distance_km=2.0,
        repeat_prompted=None,
        status="duplicate",
    )
    full["received_at"] = full["received_at"].replace(microsecond=250)
    frame = ledger(
        "tickets",
        [full, ticket(K, "T-空", "2024-10-08 10:00"), {**full, "distance_km": 0.30000000000000004}],
    )
    con = duckdb.connect()
    con.register("_batch", module._hash_input(frame, TICKETS))
    found = con.sql(f"SELECT sha1({module._row_text_sql(TICKETS)}) FROM _batch").fetchall()
    assert [r[0] for r in found] == row_sha1(TICKETS, frame)


def test_a_ticket_without_a_status_keeps_the_hash_it_had_before_statuses():
    # status came after databases held hashed tickets (load_rows, closed_rows): it is joined to
    # the hashed text only when set. This ticket's SHA-1 as Seatscore wrote it before status
    # existed (commit a1febeb); with a status the hash differs, as a changed row's should.
    from seatscore.ledgers.kinds import TICKETS, row_sha1
    from tests.helpers import ledger, ticket

    bare = ticket(K, "T-空", "2024-10-08 10:00")
    frame = ledger("tickets", [bare, {**bare, "status": "duplicate"}])
    before, with_status = row_sha1(TICKETS, frame)
    assert before == "9c9a18d78c36239d62eecef678beab5ec2f0b64a"
    assert with_status != before
