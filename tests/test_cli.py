import json
import subprocess
import sys

import pytest

from hotspot.cli import main
from tests.conftest import canonical_row, write_csv
from tests.stores import new_store_url


def run_cli(*args, cwd=None):
    """Run the installed console script as a user would."""
    return subprocess.run(
        ["hotspot", *map(str, args)], capture_output=True, text=True, cwd=cwd, timeout=300
    )


def assert_one_line_error(result):
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("hotspot: error: ")
    return lines[0]


@pytest.fixture
def town_db(town_engine):
    return town_engine.url.render_as_string(hide_password=False)


def test_import_and_export_through_the_console_script(town_db, tmp_path):
    source = write_csv(tmp_path / "in.csv", [canonical_row(i) for i in range(3)])
    done = run_cli("import", source, "--db", town_db)
    assert done.returncode == 0, done.stderr
    assert "imported 3, rejected 0, already imported 0" in done.stdout
    out = tmp_path / "out.geojson"
    done = run_cli("export", out, "--db", town_db, "--layer", "zombie_cars")
    assert done.returncode == 0, done.stderr
    assert len(json.loads(out.read_text(encoding="utf-8"))["features"]) == 3


def test_a_rejected_file_exits_2_with_one_line_and_writes_the_rejects(town_db, tmp_path):
    rows = [canonical_row(1), canonical_row(2, lat="北纬三十九度")]
    source = write_csv(tmp_path / "in.csv", rows)
    line = assert_one_line_error(run_cli("import", source, "--db", town_db))
    assert "1 of 2 rows rejected, nothing imported" in line
    assert "row 3, lat: not a number" in line
    assert (tmp_path / "in.csv.rejects.csv").exists()


def test_skip_invalid_exits_0_and_counts(town_db, tmp_path):
    source = write_csv(tmp_path / "in.csv", [canonical_row(1), canonical_row(2, lat="")])
    done = run_cli("import", source, "--db", town_db, "--skip-invalid")
    assert done.returncode == 0, done.stderr
    assert "imported 1, rejected 1, already imported 0" in done.stdout


@pytest.mark.parametrize(
    ("args", "reason"),
    [
        (["import", "nope.csv"], "no such file"),
        (["export", "x.geojson", "--since", "last week"], "not a date"),
        (["export", "x.geojson", "--layer", "unicorns"], "unknown layer 'unicorns'"),
        (["export", "x.geojson", "--category", "飞碟"], "unknown category '飞碟'"),
        (["export", "x.shp"], "cannot tell the format"),
        (["export", "x.csv", "--format", "shapefile"], "not supported"),
        (["frobnicate"], "invalid choice"),
        (["import"], "required"),
        (["import", "in.csv", "--crs", "mars2000"], "unknown coordinate system"),
        (["import", "in.csv", "--map", "lng"], "expected field=column"),
        (["demo", "--reports", "-5"], "--reports must be 0 or more"),
    ],
)
def test_user_mistakes_exit_2_with_one_line_and_no_traceback(
    town_db, tmp_path, capsys, monkeypatch, args, reason
):
    write_csv(tmp_path / "in.csv", [canonical_row(1)])
    if args[0] in ("import", "export", "demo") and len(args) > 1:
        args = [*args, "--db", town_db]
    monkeypatch.chdir(tmp_path)
    status = main(args)
    err = capsys.readouterr().err
    assert status == 2
    assert "Traceback" not in err
    assert len(err.strip().splitlines()) == 1 and reason in err, err


def test_an_unusable_database_url_is_a_one_line_error(tmp_path):
    line = assert_one_line_error(run_cli("export", tmp_path / "x.geojson", "--db", "nosuch://x"))
    assert "database" in line


def test_module_entry_point_matches_console_script(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "hotspot.cli", "export", "x.nope"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env={"HOTSPOT_DATABASE_URL": new_store_url(tmp_path, "x"), "PATH": "/usr/bin:/bin"},
    )
    assert_one_line_error(result)


def test_streamlit_options_are_refused_outside_serve(town_db):
    line = assert_one_line_error(
        run_cli("hotspots", "--db", town_db, "--out", "x.csv", "--server.port", "1")
    )
    assert line.endswith("unrecognized arguments: --server.port")
