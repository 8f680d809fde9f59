"""Minutes from Python: tariffs, rate() from files, bytes and DataFrames, against hand-worked
figures (SPEC §7) and against `wbill cdr rate` on a generated month."""

from __future__ import annotations

import csv
import io
import os
import subprocess
from decimal import ROUND_HALF_EVEN, Decimal
from pathlib import Path

import pytest

import wholesale_billing as wb

# The summary and the rated records are pandas DataFrames.
pd = pytest.importorskip("pandas")

ROOT = Path(__file__).resolve().parents[3]

TARIFF = """
currency = "GBP"
rating_decimals = 4

[[destinations]]
name = "UK national"
class = "national"
prefixes = ["44"]
connect_fee = "0.10"
per_minute = "0.06"
initial = 60
subsequent = 1

[[destinations]]
name = "UK London"
class = "national"
prefixes = ["4420"]
per_minute = "0.06"
initial = 60
subsequent = 60

[[allowances]]
package = "webex_calling"
minutes = "1.5"
classes = ["national"]
"""

HEADER = "Report ID,Start time,Duration,Direction,Call type,Answered,Called number,Org UUID,User UUID,Site timezone\n"

ORG = """
[partner]
org_id = "partner-1"
name = "Acme Telecom"
subscription_id = "Sub1234567"
"""

# One Calling user of cust-1 all May: a pool of floor(1.5 × 60 × 31 / 31) = 90 seconds.
EVENTS = b"""event_id,occurred_at,action,subscriber_id,customer_org_id,sub_partner_org_id,subscriber_type,package
e1,2024-05-01T00:00:00Z,ASSIGN,sub-1,cust-1,,USER,webex_calling
"""


def call(report_id: str, start: str, duration: int, number: str, org: str = "cust-1") -> str:
    return f"{report_id},{start},{duration},ORIGINATING,SIP_NATIONAL,true,{number},{org},u1,0\n"


def charge(connect_fee: str, per_minute: str, seconds: int) -> Decimal:
    """SPEC §7.4 by hand: connect fee + per minute × seconds / 60, half-even to 4 decimals."""
    exact = Decimal(connect_fee) + Decimal(per_minute) * seconds / 60
    return exact.quantize(Decimal("0.0001"), rounding=ROUND_HALF_EVEN)


@pytest.fixture
def tariff() -> wb.Tariff:
    return wb.Tariff.from_toml(TARIFF)


@pytest.fixture
def customer_ledger() -> wb.Ledger:
    return wb.Ledger.from_csv(EVENTS, wb.Organisation.from_toml(ORG))


def test_tariff_properties_and_lookup(tariff: wb.Tariff) -> None:
    assert (tariff.currency, tariff.rating_decimals) == ("GBP", 4)
    assert (tariff.destination_count, tariff.prefix_count) == (2, 2)
    assert tariff.allowances == [("webex_calling", Decimal("1.5"), ["national"])]
    london = tariff.lookup("+44 (20) 7946-0000")
    assert london is not None
    assert (london["name"], london["class"], london["prefix"]) == ("UK London", "national", "4420")
    assert london["per_minute"] == Decimal("0.06") and isinstance(london["per_minute"], Decimal)
    national = tariff.lookup("+44 1632 960000")
    assert national is not None and national["prefix"] == "44"
    assert tariff.lookup("+33 1 23 45 67 89") is None
    # 61 s at 60/1 bill 61 s; at 60/60, 120 s.
    assert tariff.billable_seconds("+44 1632 960000", 61) == 61
    assert tariff.billable_seconds("+44 20 7946 0000", 61) == 120
    assert wb.Tariff.from_json(wb.Tariff.from_toml(tariff.to_toml()).to_json()).to_toml() == tariff.to_toml()


def test_increments_hand_worked(tariff: wb.Tariff) -> None:
    cdrs = HEADER + call("r1", "2024-05-03T10:30:00Z", 61, "+44 1632 960000") + call(
        "r2", "2024-05-03T10:31:00Z", 61, "+44 20 7946 0000"
    )
    result = wb.rate(cdrs.encode(), tariff, "2024-05")
    rated = result.rated
    assert rated is not None
    assert list(rated["BILLABLE_SECONDS"]) == [61, 120]
    assert list(rated["CHARGE"]) == [charge("0.10", "0.06", 61), charge("0", "0.06", 120)]
    assert [str(c) for c in rated["CHARGE"]] == ["0.1610", "0.1200"]
    rows = result.summary_dicts()
    assert [(r["DESTINATION"], r["CALLS"], r["BILLABLE_MINUTES"], r["AMOUNT"]) for r in rows] == [
        ("UK London", 1, Decimal("2.0000"), Decimal("0.12")),
        ("UK national", 1, (Decimal(61) / 60).quantize(Decimal("0.0001")), Decimal("0.16")),
    ]
    assert result.counts["charged"] == 2 and result.counts["rows"] == 2
    assert result.total == Decimal("0.28")


def test_pool_of_90_seconds_covers_one_call_and_half_the_next(
    tariff: wb.Tariff, customer_ledger: wb.Ledger
) -> None:
    # Given out of time order: the pool is consumed by (Start time, Report ID).
    cdrs = (
        HEADER
        + call("r3", "2024-05-03T12:00:00Z", 60, "+44 1632 960003")
        + call("r1", "2024-05-03T10:00:00Z", 60, "+44 1632 960001")
        + call("r2", "2024-05-03T11:00:00Z", 60, "+44 1632 960002")
    )
    result = wb.rate(cdrs.encode(), tariff, "2024-05-01", "2024-05-31", ledger=customer_ledger)
    rated = result.rated
    assert rated is not None
    by_id = {r.REPORT_ID: r for r in rated.itertuples()}
    assert [by_id[i].COVERED_SECONDS for i in ("r1", "r2", "r3")] == [60, 30, 0]
    assert by_id["r1"].CHARGE == Decimal("0.0000")  # wholly covered: no connect fee
    assert by_id["r2"].CHARGE == charge("0.10", "0.06", 30) == Decimal("0.1300")
    assert by_id["r3"].CHARGE == charge("0.10", "0.06", 60) == Decimal("0.1600")
    assert list(rated["REPORT_ID"]) == ["r3", "r1", "r2"]  # rows in input order
    (row,) = result.summary_dicts()
    assert (row["CALLS"], row["COVERED_MINUTES"], row["AMOUNT"]) == (3, Decimal("1.5000"), Decimal("0.29"))
    assert result.counts["covered_calls"] == 2


def test_money_is_decimal_never_float(tariff: wb.Tariff) -> None:
    cdrs = HEADER + call("r1", "2024-05-03T10:30:00Z", 61, "+44 1632 960000")
    result = wb.rate(cdrs.encode(), tariff, wb.Period.month(2024, 5))
    summary, rated = result.summary, result.rated
    assert rated is not None
    assert list(summary.columns) == [
        "CUSTOMER_ORG_ID", "DESTINATION", "CALLS", "BILLABLE_MINUTES", "COVERED_MINUTES", "AMOUNT", "CURRENCY",
    ]
    assert list(rated.columns)[-3:] == ["COVERED_SECONDS", "CHARGE", "CURRENCY"]
    for frame in (summary, rated):
        assert not any(str(t).startswith("float") for t in frame.dtypes)
    for column in ("BILLABLE_MINUTES", "COVERED_MINUTES", "AMOUNT"):
        assert all(type(v) is Decimal for v in summary[column])
    assert all(type(v) is Decimal for v in rated["CHARGE"])


def test_strict_bad_record_raises_with_its_line(tariff: wb.Tariff) -> None:
    cdrs = HEADER + call("r1", "2024-05-03T10:30:00Z", 61, "+441632960000") + (
        "r2,2024-05-03T10:31:00Z,-5,ORIGINATING,SIP_NATIONAL,true,+441632960000,cust-1,u1,0\n"
    )
    with pytest.raises(wb.BillingInputError) as caught:
        wb.rate(cdrs.encode(), tariff, "2024-05")
    assert (caught.value.line, caught.value.column) == (3, 3)
    assert "line 3, column 3 (Duration)" in str(caught.value)
    assert [i.line for i in caught.value.issues] == [3]


def test_lenient_reports_issues_and_rates_the_rest(tariff: wb.Tariff) -> None:
    cdrs = (
        HEADER
        + call("r1", "2024-05-03T10:30:00Z", 61, "+441632960000")
        + "r2,2024-05-03T10:31:00Z,12.5,ORIGINATING,SIP_NATIONAL,true,+441632960000,cust-1,u1,0\n"
        + call("r3", "2024-05-03T10:32:00Z", 30, "+33 1 23 45 67 89")
    )
    result = wb.rate(cdrs.encode(), tariff, "2024-05", lenient=True)
    assert [(i.line, i.kind, i.is_error) for i in result.issues] == [
        (3, "invalid_value", True),
        (4, "no_destination", False),
    ]
    assert result.counts["rejected"] == 1
    assert (result.counts["charged"], result.counts["no_destination"]) == (1, 1)


def test_tariff_errors_are_located(tmp_path: Path) -> None:
    broken = TARIFF.replace("subsequent = 60", "subsequent = 0")
    with pytest.raises(wb.BillingInputError) as caught:
        wb.Tariff.from_toml(broken)
    assert caught.value.path == "destinations[1].subsequent"
    assert "destinations[1].subsequent" in str(caught.value)

    (tmp_path / "t.toml").write_text('currency = "GBP"\nprefix_table = "p.csv"\n')
    (tmp_path / "p.csv").write_text(
        "prefix,destination,class,connect_fee,per_minute,initial,subsequent\n"
        "44,UK,national,0,0.01,60,60\n"
        "+45,Denmark,international,0,0.02,60,60\n"
    )
    with pytest.raises(wb.BillingInputError) as caught:
        wb.Tariff.load(tmp_path / "t.toml")
    assert caught.value.file == str(tmp_path / "p.csv")
    assert caught.value.line == 3
    assert str(caught.value).startswith(f"in {tmp_path / 'p.csv'}: ")
    (tmp_path / "p.csv").write_text(
        "prefix,destination,class,connect_fee,per_minute,initial,subsequent\n44,UK,national,0,0.01,60,60\n"
    )
    loaded = wb.Tariff.load(tmp_path / "t.toml")
    assert (loaded.prefix_count, loaded.prefix_table) == (1, "p.csv")


def test_dataframe_input_typed_values(tariff: wb.Tariff) -> None:
    cdrs = HEADER + call("r1", "2024-05-03T10:30:00Z", 61, "+44 1632 960000") + call(
        "r2", "2024-05-03T10:31:00.5Z", 61, "+44 20 7946 0000"
    )
    from_bytes = wb.rate(cdrs.encode(), tariff, "2024-05")
    frame = pd.DataFrame(
        {
            "report_id": ["r1", "r2"],
            "StartTime": pd.to_datetime(["2024-05-03T10:30:00Z", "2024-05-03T10:31:00.5Z"], utc=True, format="ISO8601"),
            "DURATION": [61, 61],
            "Direction": ["ORIGINATING", "ORIGINATING"],
            "Call type": ["SIP_NATIONAL", "SIP_NATIONAL"],
            "Answered": [True, True],
            "Called number": ["+44 1632 960000", "+44 20 7946 0000"],
            "Org UUID": ["cust-1", "cust-1"],
            "User UUID": ["u1", "u1"],
            # Nullable integers: pandas's NA is an empty value (0 minutes); [None, 0] would be floats.
            "Site timezone": pd.array([None, 0], dtype="Int64"),
        }
    )
    from_frame = wb.rate(frame, tariff, "2024-05")
    assert from_frame.summary_dicts() == from_bytes.summary_dicts()
    assert from_frame.rated is not None and from_bytes.rated is not None
    assert from_frame.rated.equals(from_bytes.rated)
    # A float duration is refused, never rounded.
    with pytest.raises(TypeError, match="float"):
        wb.rate(frame.assign(DURATION=[61.0, 61.0]), tariff, "2024-05")


def wbill() -> Path:
    """The newest wbill of the workspace, built when there is none."""
    if os.environ.get("WBILL"):
        return Path(os.environ["WBILL"])
    target = Path(os.environ.get("CARGO_TARGET_DIR", ROOT / "target"))
    built = [p for p in (target / "debug" / "wbill", target / "release" / "wbill") if p.exists()]
    if not built:
        subprocess.run(["cargo", "build", "--quiet", "--locked", "-p", "wbill"], cwd=ROOT, check=True)
        built = [target / "debug" / "wbill"]
    return max(built, key=lambda p: p.stat().st_mtime)


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, wb.Ledger]:
    """A generated month with its calls and tariffs written as files."""
    org, events = wb.generate(seed=11, customers=6, subscribers=80, month="2024-05")
    ledger = wb.Ledger.from_csv(events, org)
    files = wb.generate_calls(ledger, seed=11, month="2024-05", calls_per_subscriber=60)
    assert sorted(files) == ["cdrs.csv", "cost-prefixes.csv", "cost-tariff.toml", "prefixes.csv", "tariff.toml"]
    out = tmp_path_factory.mktemp("month")
    for name, data in files.items():
        (out / name).write_bytes(data)
    (out / "events.csv").write_bytes(events)
    (out / "org.toml").write_text(org.to_toml())
    return out, ledger


def test_summary_and_rated_equal_the_cli(generated: tuple[Path, wb.Ledger], tmp_path: Path) -> None:
    month, ledger = generated
    subprocess.run(
        [
            str(wbill()), "cdr", "rate", "--cdrs", str(month / "cdrs.csv"), "--tariff", str(month / "tariff.toml"),
            "--events", str(month / "events.csv"), "--org", str(month / "org.toml"),
            "--from", "2024-05-01", "--to", "2024-05-31",
            "--out", str(tmp_path / "rated.csv"), "--summary", str(tmp_path / "summary.csv"),
        ],
        check=True,
        capture_output=True,
    )
    tariff = wb.Tariff.load(month / "tariff.toml")
    result = wb.rate(month / "cdrs.csv", tariff, "2024-05", ledger=ledger)
    with open(tmp_path / "summary.csv", newline="") as f:
        cli_summary = list(csv.DictReader(f))
    ours = [{k: str(v) for k, v in row.items()} for row in result.summary_dicts()]
    assert len(ours) > 20
    assert ours == cli_summary
    with open(tmp_path / "rated.csv", newline="") as f:
        cli_rated = list(csv.DictReader(f))
    rated = result.rated
    assert rated is not None
    assert [{k: str(v) for k, v in row.items()} for row in rated.to_dict("records")] == cli_rated
    assert result.counts["duplicates"] > 0 and result.counts["covered_calls"] > 0

    # Written to a file instead: the same bytes as the CLI's, and no DataFrame.
    to_file = wb.rate(month / "cdrs.csv", tariff, "2024-05", ledger=ledger, rated_out=tmp_path / "ours.csv")
    assert to_file.rated is None
    assert (tmp_path / "ours.csv").read_bytes() == (tmp_path / "rated.csv").read_bytes()
    assert to_file.summary_dicts() == result.summary_dicts()


def test_dataframe_of_the_month_equals_the_file(generated: tuple[Path, wb.Ledger]) -> None:
    month, ledger = generated
    tariff = wb.Tariff.load(month / "tariff.toml")
    frame = pd.read_csv(month / "cdrs.csv", dtype=str, keep_default_na=False)
    from_frame = wb.rate(frame, tariff, "2024-05", ledger=ledger)
    from_file = wb.rate(str(month / "cdrs.csv"), tariff, "2024-05", ledger=ledger)
    assert from_frame.summary_dicts() == from_file.summary_dicts()
    assert from_frame.counts == from_file.counts
    # polars too (every column read as text; its nulls are empty values).
    pl = pytest.importorskip("polars")
    from_polars = wb.rate(pl.read_csv(month / "cdrs.csv", infer_schema_length=0), tariff, "2024-05", ledger=ledger)
    assert from_polars.summary_dicts() == from_file.summary_dicts()
    # Two files are one input: the second half's records are not rated twice.
    text = (month / "cdrs.csv").read_bytes()
    header, *lines = text.splitlines(keepends=True)
    half = len(lines) // 2
    parts = [header + b"".join(lines[: half + 100]), header + b"".join(lines[half:])]
    split = wb.rate(parts, tariff, "2024-05", ledger=ledger)
    assert split.summary_dicts() == from_file.summary_dicts()
    assert split.counts["duplicates"] == from_file.counts["duplicates"] + 100


def test_failed_strict_run_writes_nothing(
    tariff: wb.Tariff, customer_ledger: wb.Ledger, tmp_path: Path
) -> None:
    cdrs = HEADER + call("r1", "2024-05-03T10:30:00Z", 61, "+441632960000", org="stranger")
    out = tmp_path / "rated.csv"
    with pytest.raises(wb.BillingInputError, match="unknown customer"):
        wb.rate(cdrs.encode(), tariff, "2024-05", ledger=customer_ledger, rated_out=out)
    assert list(tmp_path.iterdir()) == []
    lenient = wb.rate(cdrs.encode(), tariff, "2024-05", ledger=customer_ledger, rated_out=out, lenient=True)
    assert lenient.counts["unknown_customer"] == 1
    assert out.read_text().splitlines()[1].split(",")[7] == "unknown_customer"


def test_json_feed_input(tariff: wb.Tariff) -> None:
    feed = io.StringIO()
    feed.write(
        '{"items": [{"Report ID": "r1", "Start time": "2024-05-03T10:30:00Z", "Duration": 61, '
        '"Direction": "ORIGINATING", "Call type": "SIP_NATIONAL", "Answered": true, '
        '"Called number": "+44 1632 960000", "Org UUID": "cust-1", "User UUID": "u1"}]}'
    )
    result = wb.rate(feed.getvalue().encode(), tariff, "2024-05")
    assert result.rated is not None
    assert list(result.rated["CHARGE"]) == [Decimal("0.1610")]


def test_guide_python_example_runs() -> None:
    """docs/minutes.md shows rating from Python: its example runs as shown."""
    import re

    guide = (ROOT / "docs" / "minutes.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```python\n(.*?)```", guide, flags=re.DOTALL)
    assert len(blocks) == 1
    exec(compile(blocks[0], "docs/minutes.md python block", "exec"), {})


def test_a_tariff_pickles_self_contained(generated: tuple[Path, wb.Ledger]) -> None:
    import pickle

    folder, _ = generated
    tariff = wb.Tariff.load(folder / "tariff.toml")
    assert tariff.prefix_table is not None
    back = pickle.loads(pickle.dumps(tariff))
    # The prefix table's destinations travel inline: no file is needed where it is unpickled.
    assert back.prefix_table is None
    assert (back.destination_count, back.prefix_count) == (tariff.destination_count, tariff.prefix_count)
    assert back.lookup("+1 212 555 0100") == tariff.lookup("+1 212 555 0100")
    assert wb.Money("1", tariff.currency).minor_unit == 2
    assert wb.Money("1", "JPY").minor_unit == 0
