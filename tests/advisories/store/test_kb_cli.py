"""``vulnhound db``: update from a mirror, status, show, bundles, through the real Typer app."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from typer.testing import CliRunner

from vulnhound.cli.main import app

runner = CliRunner()


def _mirror(vulndata: Path, tmp: Path) -> Path:
    root = tmp / "mirror"
    pypa = root / "pypa-advisory-database" / "vulns" / "jinja2"
    pypa.mkdir(parents=True)
    shutil.copy(vulndata / "pypa-advisory-database/vulns/jinja2/PYSEC-2014-8.yaml", pypa)
    harvest = root / "harvest" / "PyPI"
    harvest.mkdir(parents=True)
    shutil.copy(vulndata / "osv-fixture-harvest/PyPI/PYSEC-2019-156.json", harvest)
    (harvest / "broken.json").write_text("{not json", encoding="utf-8")
    shutil.copytree(vulndata / "osv-schema", root / "osv-schema")  # reference material: must be skipped
    return root


def test_update_status_show_bundle(vulndata: Path, tmp_path: Path) -> None:
    db = str(tmp_path / "kb.db")
    mirror = _mirror(vulndata, tmp_path)
    res = runner.invoke(app, ["db", "update", "--mirror", str(mirror), "--db", db])
    assert res.exit_code == 0, res.output
    assert "pypa-advisory-database: full op #" in res.output and "osv-dir:harvest: full" in res.output
    assert "osv-schema: reference material" in res.output
    again = runner.invoke(app, ["db", "update", "--mirror", str(mirror), "--db", db, "-q"])
    assert again.exit_code == 0 and again.output == ""

    st = runner.invoke(app, ["db", "status", "--json", "--db", db])
    rows = {r["name"]: r for r in json.loads(st.stdout)}
    assert rows["osv-dir:harvest"]["rejects"] == {"malformed JSON: JSONDecodeError": 1}
    assert rows["pypa-advisory-database"]["record_count"] == 1

    show = runner.invoke(app, ["db", "show", "GHSA-8r7q-cvjq-x353", "--json", "--db", db])
    doc = json.loads(show.stdout)
    assert doc["group"] == "CVE-2014-1402" and [r["id"] for r in doc["records"]] == ["PYSEC-2014-8"]
    assert runner.invoke(app, ["db", "show", "CVE-1999-0000", "--db", db]).exit_code == 1

    bundle = tmp_path / "kb.tar.gz"
    assert runner.invoke(app, ["db", "export-bundle", str(bundle), "--db", db]).exit_code == 0
    other = str(tmp_path / "other.db")
    assert runner.invoke(app, ["db", "import-bundle", str(bundle), "--db", other]).exit_code == 0
    st2 = runner.invoke(app, ["db", "status", "--json", "--db", other])
    assert {r["name"] for r in json.loads(st2.stdout)} == set(rows)


def test_unknown_source_is_an_error(tmp_path: Path) -> None:
    res = runner.invoke(app, ["db", "update", "--source", "no-such-feed", "--db", str(tmp_path / "kb.db")])
    assert res.exit_code == 2 and "unknown feed" in res.output
