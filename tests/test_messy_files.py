"""Messy accounts files through `smartplan plan`: each is planned or gets one clear error.

Every case runs the command line with an output folder that already contains files from an
earlier run; a rejected input must leave that folder byte-for-byte as it was.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from smartplan.cli import main

SPEC = """
[plan]
territories = 2
seed = 1
[search]
moves = 3000
chains = 1
[accounts]
id = "account_id"
owner = "owner"
{accounts}
[[criteria]]
kind = "balance"
metric = "revenue"
tolerance = 0.5
{criterion}
"""


@dataclass(frozen=True)
class Case:
    """One accounts file, the spec additions it needs, and the outcome expected."""

    file_name: str
    content: str | Callable[[Path], None]
    accounts: str = ""  # lines added to [accounts]
    criterion: str = ""  # lines added to the balance criterion
    args: tuple[str, ...] = ()
    error: tuple[str, ...] = ()  # fragments of the error; empty for a plan
    ids: tuple[str, ...] = ()
    revenue: float = 0.0
    warning: tuple[str, ...] = field(default=())


def _workbook(path: Path) -> None:
    with pd.ExcelWriter(path, engine="openpyxl") as writer:
        pd.DataFrame({"note": ["exported from the CRM"]}).to_excel(
            writer, sheet_name="Notes", index=False
        )
        pd.DataFrame(
            {
                "account_id": ["00123", "00124", "00125"],
                "revenue": ["$1,234.50", 2000, "$750"],
                "owner": ["T01", "T02", "T01"],
            }
        ).to_excel(writer, sheet_name="Accounts", index=False)


PLANNED = {
    "bom, semicolons, euro amounts, blank tail": Case(
        "accounts.csv",
        "\ufeffaccount_id;revenue;owner\n00123;1.234,50 €;T01\n00124;2.000,00 €;T02\n"
        "00125;750 €;T01\n\n;;\n\n",
        ids=("00123", "00124", "00125"),
        revenue=3984.5,
    ),
    "quoted dollar amounts": Case(
        "accounts.csv",
        'account_id,revenue,owner\n00123,"$1,234.50",T01\n00124,"$2,000",T02\n00125,$750,T01\n',
        ids=("00123", "00124", "00125"),
        revenue=3984.5,
    ),
    "tabs and stray whitespace": Case(
        "accounts.tsv",
        " account_id \t revenue \towner\n 00123 \t 1234.5 \t T01 \n00124\t2000\tT02 \n"
        "00125 \t750\tT01\n",
        ids=("00123", "00124", "00125"),
        revenue=3984.5,
    ),
    "pipes and mapped headers": Case(
        "accounts.csv",
        "Account ID|Revenue (USD)|Owner\nA-1|1 234.50|T01\nA-2|2000|T02\nA-3|USD 750|T01\n",
        accounts='columns = { account_id = "Account ID", revenue = "Revenue (USD)", '
        'owner = "Owner" }',
        ids=("A-1", "A-2", "A-3"),
        revenue=3984.5,
    ),
    "owner that is not a territory": Case(
        "accounts.csv",
        "account_id,revenue,owner\na,1,T01\nb,2,Z99\nc,3,T02\n",
        ids=("a", "b", "c"),
        revenue=6.0,
        warning=("'Z99'", "row 2", "no home territory"),
    ),
    "excel sheet chosen by name": Case(
        "accounts.xlsx",
        _workbook,
        args=("--sheet", "Accounts"),
        ids=("00123", "00124", "00125"),
        revenue=3984.5,
    ),
}

REJECTED = {
    "duplicate ids after stripping": Case(
        "accounts.csv",
        "account_id,revenue,owner\na,1,T01\n a ,2,T02\nc,3,T01\n",
        error=("duplicate account ids ['a']", "rows 1 ('a'), 2 ('a')", "must be unique"),
    ),
    "empty id": Case(
        "accounts.csv",
        "account_id,revenue,owner\na,1,T01\n  ,2,T02\nc,3,T01\n",
        error=("empty account ids in row 2",),
    ),
    "missing column": Case(
        "accounts.csv",
        "account_id,revenu,owner\na,1,T01\nb,2,T02\n",
        error=("missing column 'revenue'", "closest columns: 'revenu'"),
    ),
    "text metric": Case(
        "accounts.csv",
        "account_id,revenue,owner\na,1,T01\nb,lots,T02\n",
        error=("non-numeric values in row 2 ('lots')",),
    ),
    "decimal comma in a comma file": Case(
        "accounts.csv",
        'account_id,revenue,owner\na,"1234,5",T01\nb,2,T02\n',
        error=("row 1 ('1234,5')", "',' as the decimal mark"),
    ),
    "accounting negative": Case(
        "accounts.csv",
        'account_id,revenue,owner\na,1,T01\nb,"(2,000)",T02\n',
        error=("negative in row 2",),
    ),
    "empty metric": Case(
        "accounts.csv",
        "account_id,revenue,owner\na,1,T01\nb,,T02\nc,3,T01\n",
        error=("empty or NaN in row 2",),
    ),
    "infinite metric": Case(
        "accounts.csv",
        "account_id,revenue,owner\na,1,T01\nb,inf,T02\nc,3,T01\n",
        error=("revenue", "row 2 ('inf')"),
    ),
    "mixed currencies": Case(
        "accounts.csv",
        "account_id,revenue,owner\na,$1,T01\nb,€2,T02\n",
        error=("mixes currencies", "'$' in row 1", "'€' in row 2"),
    ),
    "empty metric row counted in the file under a scope": Case(
        "accounts.csv",
        "account_id,revenue,owner,region\na,1,T01,E\nb,2,T02,W\nc,3,T01,E\nd,,T02,W\n",
        accounts="scope = 'region == \"W\"'",
        error=("empty or NaN in row 4",),
    ),
    "scope matching nothing": Case(
        "accounts.csv",
        "account_id,revenue,owner,region\na,1,T01,E\nb,2,T02,E\n",
        accounts="scope = 'region == \"W\"'",
        error=("matches none of the 2 accounts", "widen [accounts].scope"),
    ),
    "mapped header missing": Case(
        "accounts.csv",
        "Account Id,revenue,owner\na,1,T01\n",
        accounts='columns = { account_id = "Account ID" }',
        error=("has no column 'Account ID'", "closest headers: 'Account Id'"),
    ),
    "filter on a missing column": Case(
        "accounts.csv",
        "account_id,revenue,owner\na,1,T01\nb,2,T02\n",
        criterion="where = 'tier == \"A\"'",
        error=("tier",),
    ),
    "repeated headers": Case(
        "accounts.csv",
        "account_id,revenue,revenue,owner\na,1,2,T01\n",
        error=("repeated column headers ['revenue']",),
    ),
    "header only": Case(
        "accounts.csv",
        "account_id,revenue,owner\n\n\n",
        error=("has a header but no account rows",),
    ),
    "empty file": Case("accounts.csv", "", error=("is empty",)),
    "ragged rows": Case(
        "accounts.csv",
        'account_id,revenue,owner\na,1,T01\nb,2,T02,extra,fields\n"c,3\n',
        error=("cannot read",),
    ),
    "wrong sheet name": Case(
        "accounts.xlsx",
        _workbook,
        args=("--sheet", "Acounts"),
        error=("no sheet 'Acounts' (did you mean 'Accounts'?)", "'Notes', 'Accounts'"),
    ),
    "one account larger than its band": Case(
        "accounts.csv",
        "account_id,name,revenue,owner\na,Acme,90,T01\nb,Bolt,5,T02\nc,Core,5,T01\n",
        error=("Acme (a) holds 90% of revenue", "raise the tolerance to at least 80%"),
    ),
}


def _snapshot(folder: Path) -> dict[str, bytes]:
    return {path.name: path.read_bytes() for path in sorted(folder.iterdir())}


def _run(tmp_path: Path, case: Case) -> tuple[int, str, str, Path, dict[str, bytes]]:
    inputs = tmp_path / "in"
    inputs.mkdir()
    accounts = inputs / case.file_name
    if isinstance(case.content, str):
        accounts.write_bytes(case.content.encode("utf-8"))
    else:
        case.content(accounts)
    spec = inputs / "spec.toml"
    spec.write_text(SPEC.format(accounts=case.accounts, criterion=case.criterion))
    out = tmp_path / "out"
    out.mkdir()
    (out / "plan.csv").write_text("account_id,territory\nold,T01\n")
    (out / "plan_scorecard.json").write_text('{"summary": {"cost": 0.5}}\n')
    (out / "notes.txt").write_bytes(b"kept as it is\r\n")
    before = _snapshot(out)
    result = CliRunner().invoke(
        main,
        ["plan", str(accounts), "--spec", str(spec), "--out", str(out / "plan.csv"), *case.args],
    )
    return result.exit_code, result.stdout, result.stderr, out, before


@pytest.mark.parametrize("name", sorted(PLANNED))
def test_messy_file_is_planned(tmp_path: Path, name: str) -> None:
    case = PLANNED[name]
    code, _out, err, out, _before = _run(tmp_path, case)
    assert code == 0, err
    assert "error:" not in err
    for fragment in case.warning:
        assert fragment in err
    plan = pd.read_csv(out / "plan.csv", dtype={"account_id": str})
    assert sorted(plan["account_id"]) == sorted(case.ids)
    card = json.loads((out / "plan_scorecard.json").read_text())
    assert card["criteria"][0]["total"] == pytest.approx(case.revenue)
    assert card["summary"]["interrupted"] is False


@pytest.mark.parametrize("name", sorted(REJECTED))
def test_messy_file_is_rejected_without_output(tmp_path: Path, name: str) -> None:
    case = REJECTED[name]
    code, _out, err, out, before = _run(tmp_path, case)
    assert code == 2, err
    assert err.count("error:") == 1, err
    for fragment in case.error:
        assert fragment in err
    assert case.file_name in err
    assert _snapshot(out) == before


def test_output_that_is_an_input_is_rejected(tmp_path: Path) -> None:
    accounts = tmp_path / "accounts.csv"
    accounts.write_text("account_id,revenue,owner\na,1,T01\nb,2,T02\n")
    spec = tmp_path / "spec.toml"
    spec.write_text(SPEC.format(accounts="", criterion=""))
    before = _snapshot(tmp_path)
    result = CliRunner().invoke(
        main, ["plan", str(accounts), "--spec", str(spec), "--out", str(accounts)]
    )
    assert result.exit_code == 2
    assert "is also an input of this run" in result.stderr
    assert _snapshot(tmp_path) == before
