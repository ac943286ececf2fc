"""The ``hotspot`` command: demo data, import, export (see DESIGN.md for the contract)."""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import logging
import sys
from collections.abc import Sequence
from pathlib import Path

from sqlalchemy.exc import ArgumentError, OperationalError

from hotspot.auth import ROLES
from hotspot.errors import UserError
from hotspot.filters import ReportFilter

__all__ = ["main"]

EXIT_OK = 0
EXIT_USER_ERROR = 2


class _Parser(argparse.ArgumentParser):
    """argparse that reports a usage mistake as one line with exit status 2.

    Options are never abbreviated: ``--password X`` must not pass for
    ``--password-file X`` (and print the password in the error).
    """

    def __init__(self, *args, **kwargs) -> None:
        kwargs["allow_abbrev"] = False
        super().__init__(*args, **kwargs)

    def error(self, message: str) -> None:
        command = self.prog.removeprefix("hotspot").strip()
        raise UserError(f"{command}: {message}" if command else message)


def _date(value: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {value!r}") from None


def _mapping(value: str) -> tuple[str, str]:
    field, sep, column = value.partition("=")
    if not sep or not field or not column:
        raise argparse.ArgumentTypeError(f"expected field=column, got {value!r}")
    return field.strip(), column.strip()


def _add_db(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--db",
        help="database URL or SQLite path (default: HOTSPOT_DATABASE_URL or data/hotspot.db)",
    )


def _add_analysis_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--res", type=int, default=9, help="analysis H3 resolution (default 9)")
    parser.add_argument("--k", type=int, default=1, help="neighbourhood grid distance (default 1)")


def _add_filters(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("filters")
    group.add_argument("--category", nargs="+", default=[], help="category codes or names")
    group.add_argument("--layer", nargs="+", default=[], help="map layers")
    group.add_argument("--community", help="community code or name")
    group.add_argument("--since", type=_date, help="first report date, YYYY-MM-DD")
    group.add_argument("--until", type=_date, help="last report date, YYYY-MM-DD")
    group.add_argument("--status", nargs="+", default=[], help="status codes or names")


def _filters(args: argparse.Namespace) -> ReportFilter:
    from hotspot import taxonomy

    def resolve(values: list[str], resolver, what: str) -> tuple[str, ...]:
        codes = resolver(values) if values else []
        for value, code in zip(values, codes, strict=True):
            if code is None:
                raise UserError(f"unknown {what} {value!r}")
        return tuple(codes)

    catalogue = taxonomy.load_categories()
    unknown_layers = sorted(set(args.layer) - set(catalogue["layer"]))
    if unknown_layers:
        known = ", ".join(sorted(set(catalogue["layer"])))
        raise UserError(f"unknown layer {unknown_layers[0]!r}; layers are {known}")
    return ReportFilter(
        categories=resolve(args.category, taxonomy.resolve_categories, "category"),
        layers=tuple(args.layer),
        community=args.community,
        since=args.since,
        until=args.until,
        statuses=resolve(args.status, taxonomy.resolve_statuses, "status"),
    )


#: Engines the command opened; :func:`main` disposes them (psycopg warns otherwise).
_ENGINES: list = []


def _open_store(url: str | None):
    """Open (and migrate) the store for this command; closed again when it ends."""
    from hotspot.store.engine import open_store

    engine = open_store(url)
    _ENGINES.append(engine)
    return engine


def _build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="hotspot", description="Hotspot Map: issue reports and hotspots.")
    parser.add_argument("-v", "--verbose", action="store_true", help="log progress")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    commands.add_parser("serve", help="start the dashboard; other options go to streamlit run")

    demo = commands.add_parser("demo", help="fill the store with the synthetic demo town")
    demo.add_argument("--seed", type=int, default=7)
    demo.add_argument("--reports", type=int, default=20_000, help="number of reports")
    demo.add_argument("--until", type=_date, help="last day of the demo year (default today)")
    _add_db(demo)

    imp = commands.add_parser("import", help="import reports from a file")
    imp.add_argument("file", type=Path)
    imp.add_argument(
        "--crs",
        help="coordinates' system: wgs84, gcj02, bd09, cgcs2000 or EPSG:nnnn "
        "(default: what a GeoJSON/GeoPackage file declares, else wgs84)",
    )
    imp.add_argument(
        "--format",
        dest="fmt",
        help="csv, xlsx, geojson, open311 or gpkg (default: from the file name; "
        ".json is Open311 when it holds a list, else GeoJSON)",
    )
    imp.add_argument("--layer", help="the GeoPackage layer to read (default: reports)")
    imp.add_argument("--skip-invalid", action="store_true", help="import the good rows only")
    imp.add_argument("--dry-run", action="store_true", help="validate, write nothing")
    imp.add_argument(
        "--map",
        type=_mapping,
        nargs="+",
        default=[],
        metavar="FIELD=COLUMN",
        help="header overrides",
    )
    _add_db(imp)

    exp = commands.add_parser("export", help="export reports to a file")
    exp.add_argument("file", type=Path)
    exp.add_argument(
        "--format",
        dest="fmt",
        help="geojson, gpkg, csv, xlsx or open311 (default: from the file name; "
        ".json is GeoJSON, NAME.open311.json Open311)",
    )
    _add_as_user(exp, "whose view to export (scope and masking); default: the operator, all")
    _add_filters(exp)
    _add_db(exp)

    hot = commands.add_parser("hotspots", help="Getis-Ord Gi* hotspots per H3 cell to a CSV")
    _add_analysis_options(hot)
    hot.add_argument("--input", type=Path, help="a report CSV to analyse instead of the store")
    hot.add_argument("--area", type=Path, help="study area GeoJSON (default: the service area)")
    hot.add_argument("--out", type=Path, required=True, help="output CSV")
    _add_as_user(hot, "analyse only what this account may see")
    _add_filters(hot)
    _add_db(hot)

    plan = commands.add_parser("plan", help="crackdown clusters of significant hotspots")
    _add_analysis_options(plan)
    plan.add_argument("--out", type=Path, required=True, help="output .csv or .xlsx")
    _add_as_user(plan, "plan only what this account may see")
    _add_filters(plan)
    _add_db(plan)

    emerging = commands.add_parser("emerging", help="emerging hotspot patterns per H3 cell")
    _add_analysis_options(emerging)
    emerging.add_argument(
        "--freq", choices=["week", "day", "month"], default="week", help="slice length"
    )
    emerging.add_argument("--input", type=Path, help="a report CSV to analyse instead")
    emerging.add_argument("--area", type=Path, help="study area GeoJSON")
    emerging.add_argument("--out", type=Path, required=True, help="output CSV")
    _add_as_user(emerging, "analyse only what this account may see")
    _add_filters(emerging)
    _add_db(emerging)

    case = commands.add_parser("case", help="move a report to another status (工单流转)")
    case.add_argument("report_id", type=int, metavar="ID", help="the report's id")
    case.add_argument("--to", required=True, help="new status, code or name (e.g. 已派遣)")
    case.add_argument("--note", help="a note for the event log")
    _add_as_user(case, "the account that makes the change (default: cli, the operator)")
    _add_db(case)

    users = commands.add_parser("users", help="accounts of the dashboard (账号)")
    actions = users.add_subparsers(dest="action", required=True, parser_class=_Parser)
    add = actions.add_parser("add", help="create an account (the password is asked for)")
    add.add_argument("username")
    add.add_argument("--role", required=True, choices=list(ROLES))
    add.add_argument("--community", help="community code or name (community, gridworker)")
    add.add_argument(
        "--name", dest="full_name", help="the person's name (a grid worker's as the grid lists it)"
    )
    _add_password_file(add)
    _add_db(add)
    listing = actions.add_parser("list", help="list the accounts")
    _add_db(listing)
    disable = actions.add_parser("disable", help="disable an account and end its sessions")
    disable.add_argument("username")
    _add_db(disable)
    password = actions.add_parser("set-password", help="set an account's password (asked for)")
    password.add_argument("username")
    _add_password_file(password)
    _add_db(password)
    return parser


def _add_as_user(parser: argparse.ArgumentParser, help_text: str) -> None:
    parser.add_argument("--as-user", dest="as_user", metavar="USER", help=help_text)


def _add_password_file(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--password-file",
        type=Path,
        help="read the password from the first line of this file (else it is asked for); "
        "never give a password on the command line",
    )


def _read_password(args: argparse.Namespace) -> str:
    """The new password: the first line of --password-file, else typed twice at a prompt."""
    if args.password_file:
        lines = args.password_file.read_text(encoding="utf-8-sig").splitlines()
        if not lines or not lines[0]:
            raise UserError(f"{args.password_file}: the first line must hold the password")
        return lines[0]
    if not sys.stdin.isatty():
        raise UserError("no terminal to ask for the password: use --password-file")
    import getpass

    first = getpass.getpass("password: ")
    if getpass.getpass("again: ") != first:
        raise UserError("the two passwords differ")
    return first


def _viewer(args: argparse.Namespace, engine) -> tuple[str, ReportFilter]:
    """Who acts (``cli`` without --as-user) and the command's filters narrowed to their scope."""
    filters = _filters(args) if hasattr(args, "category") else ReportFilter()
    if not args.as_user:
        return "cli", filters
    from hotspot.auth import load_user

    user = load_user(engine, args.as_user)
    if user is None:
        raise UserError(f"--as-user {args.as_user}: no such enabled account")
    return user.username, dataclasses.replace(filters, scope=user.scope)


def _cmd_demo(args: argparse.Namespace) -> int:
    if args.reports < 0:
        raise UserError("--reports must be 0 or more")
    from hotspot.demo import build_town
    from hotspot.store.town import write_town

    town = build_town(seed=args.seed, n_reports=args.reports, until=args.until)
    write_town(_open_store(args.db), town)
    print(
        f"demo town written: {len(town.communities)} communities, {len(town.zones)} storefront "
        f"zones, {len(town.reports)} reports (seed {args.seed}, until {town.meta['demo_until']})"
    )
    return EXIT_OK


def _cmd_import(args: argparse.Namespace) -> int:
    from hotspot.intake.importer import import_reports

    engine = _open_store(args.db)
    result = import_reports(
        engine,
        args.file,
        crs=args.crs,
        fmt=args.fmt,
        skip_invalid=args.skip_invalid,
        dry_run=args.dry_run,
        overrides=dict(args.map),
        layer=args.layer,
    )
    if not result.dry_run:
        from hotspot import audit

        detail = f"{result.valid} imported, {result.rejected} rejected"
        audit.record(engine, "cli", "import", args.file.name, detail)
    verb = "would import" if result.dry_run else "imported"
    line = (
        f"{verb} {result.valid}, rejected {result.rejected}, "
        f"already imported {result.already_imported}, "
        f"duplicates {result.duplicates}, relapses {result.relapses}"
    )
    if result.footprints:
        line += f", footprints {result.footprints}"
    if result.crs != "wgs84":
        line += f" (coordinates read as {result.crs})"
    if result.rejects_file:
        line += f"; rejected rows in {result.rejects_file}"
    print(line)
    if args.verbose:
        print("seconds: " + ", ".join(f"{k} {v:.2f}" for k, v in result.timings.items()))
    return EXIT_OK


def _cmd_export(args: argparse.Namespace) -> int:
    from hotspot import audit
    from hotspot.intake.export import export_reports

    engine = _open_store(args.db)
    actor, filters = _viewer(args, engine)
    count = export_reports(engine, args.file, fmt=args.fmt, filters=filters)
    audit.record(engine, actor, "export", args.file.name, f"{count} reports")
    print(f"exported {count} reports to {args.file}")
    return EXIT_OK


def _cmd_hotspots(args: argparse.Namespace) -> int:
    from hotspot import analysis

    if not args.out.parent.is_dir():
        raise UserError(f"{args.out}: no such directory {args.out.parent}")
    area = analysis.read_area(args.area) if args.area else None
    options = {"res": args.res, "k": args.k, "area": area}
    if args.input:
        table = analysis.hotspot_table_from_file(args.input, _filters(args), **options)
    else:
        engine = _open_store(args.db)
        table = analysis.hotspot_table(engine, _viewer(args, engine)[1], **options)
        if table["count"].sum() == 0:
            raise UserError("no reports match the filters inside the study area")
    table.to_csv(args.out, index=False)
    hot = int((table["gi_bin"] >= 2).sum())
    print(f"wrote {len(table)} cells ({hot} hot at 95%) to {args.out}")
    return EXIT_OK


def _cmd_plan(args: argparse.Namespace) -> int:
    import pandas as pd

    from hotspot import analysis
    from hotspot.intake.export import DEMO_NOTICE, neutralise_formulas
    from hotspot.store.frames import read_meta

    suffix = args.out.suffix.lower()
    if suffix not in (".csv", ".xlsx"):
        raise UserError(f"{args.out.name}: a plan is written as .csv or .xlsx")
    if not args.out.parent.is_dir():
        raise UserError(f"no such directory: {args.out.parent}")
    engine = _open_store(args.db)
    actor, filters = _viewer(args, engine)
    table = analysis.plan_table(engine, filters, res=args.res, k=args.k)
    # Only text can smuggle a formula; numbers (a -1 hour) stay numbers.
    text = [c for c in table.columns if not pd.api.types.is_numeric_dtype(table[c])]
    table[text] = neutralise_formulas(table[text])
    if read_meta(engine).get("demo") == "true":
        table["data_notice"] = DEMO_NOTICE
    if suffix == ".xlsx":
        headers = {**analysis.PLAN_HEADERS_ZH, "data_notice": "数据说明"}
        table.rename(columns=headers).to_excel(args.out, index=False, sheet_name="集中执法计划")
    else:
        table.to_csv(args.out, index=False, encoding="utf-8-sig")
    from hotspot import audit

    audit.record(engine, actor, "export", args.out.name, f"plan: {len(table)} clusters")
    print(f"wrote {len(table)} crackdown clusters (hot at 95%, strongest first) to {args.out}")
    return EXIT_OK


_COMMANDS = {"demo": _cmd_demo, "import": _cmd_import, "export": _cmd_export}
_COMMANDS["plan"] = _cmd_plan
_COMMANDS["hotspots"] = _cmd_hotspots


def _cmd_emerging(args: argparse.Namespace) -> int:
    from hotspot import analysis

    area = analysis.read_area(args.area) if args.area else None
    if args.input:
        source, filters = args.input, _filters(args)
    else:
        source = _open_store(args.db)
        filters = _viewer(args, source)[1]
    table = analysis.emerging_table(
        source, filters, res=args.res, k=args.k, freq=args.freq, area=area
    )
    table.to_csv(args.out, index=False)
    found = table.loc[table["pattern"] != "no pattern", "pattern"].value_counts()
    summary = ", ".join(f"{n} {name}" for name, n in found.items()) or "no pattern"
    slices = int(table["slices"].iloc[0]) if len(table) else 0
    print(f"wrote {len(table)} cells over {slices} {args.freq}s ({summary}) to {args.out}")
    return EXIT_OK


_COMMANDS["emerging"] = _cmd_emerging


def _cmd_case(args: argparse.Namespace) -> int:
    from hotspot import cases, taxonomy

    (status,) = taxonomy.resolve_statuses([args.to])
    if status is None:
        raise UserError(f"unknown status {args.to!r}")
    engine = _open_store(args.db)
    actor, filters = _viewer(args, engine)
    if args.as_user:
        from hotspot.auth import load_user, may_change_status

        if not may_change_status(load_user(engine, actor)):
            raise UserError(f"--as-user {actor}: this role may not change a report's status")
    current = cases.case_state(engine, args.report_id, filters.scope)
    change = cases.change_status(
        engine,
        args.report_id,
        status,
        expected_version=current.version,
        actor=actor,
        note=args.note,
        scope=filters.scope,
    )
    names = taxonomy.STATUS_NAMES
    print(
        f"report {change.report_id}: {names[change.from_status][0]} -> "
        f"{names[change.to_status][0]} (version {change.version})"
    )
    return EXIT_OK


_COMMANDS["case"] = _cmd_case


def _cmd_users(args: argparse.Namespace) -> int:
    from hotspot import auth

    engine = _open_store(args.db)
    if args.action == "add":
        user = auth.add_user(
            engine,
            args.username,
            args.role,
            _read_password(args),
            community=args.community,
            full_name=args.full_name,
        )
        where = f" of {user.community_code}" if user.community_code else ""
        cells = f", {len(user.cells)} grid cells" if user.cells is not None else ""
        print(f"account {user.username} added: {user.role}{where}{cells}")
    elif args.action == "list":
        table = auth.list_users(engine)
        if table.empty:
            print("no accounts: add the first with hotspot users add NAME --role admin")
        for row in table.itertuples():
            state = "disabled" if row.disabled else "enabled"
            where = f" {row.community}" if row.community else ""
            name = f" ({row.full_name})" if row.full_name else ""
            print(f"{row.username}\t{row.role}{where}{name}\t{state}")
    elif args.action == "disable":
        auth.disable_user(engine, args.username)
        print(f"account {args.username} disabled")
    else:
        auth.set_password(engine, args.username, _read_password(args))
        print(f"password of {args.username} set")
    return EXIT_OK


_COMMANDS["users"] = _cmd_users


def _cmd_serve(args: argparse.Namespace) -> int:
    from hotspot.serve import serve

    return serve(args.streamlit_args)


_COMMANDS["serve"] = _cmd_serve


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit status.

    Parameters
    ----------
    argv : sequence of str, optional
        Arguments without the program name; ``sys.argv[1:]`` when omitted.

    Returns
    -------
    int
        0 on success, 2 on a user's mistake (with a one-line reason on stderr).
    """
    try:
        parser = _build_parser()
        # ``serve`` hands its other options (--server.port ...) to streamlit run
        args, streamlit_args = parser.parse_known_args(argv)
        if streamlit_args and args.command != "serve":
            # option names only: a value given by mistake may be a password
            options = [arg.split("=", 1)[0] for arg in streamlit_args if arg.startswith("-")]
            parser.error(f"unrecognized arguments: {' '.join(options) or '(values)'}")
        args.streamlit_args = streamlit_args
        logging.basicConfig(
            level=logging.INFO if args.verbose else logging.WARNING,
            format="%(levelname)s %(name)s: %(message)s",
        )
        return _COMMANDS[args.command](args)
    except UserError as exc:
        print(f"hotspot: error: {exc}", file=sys.stderr)
        return EXIT_USER_ERROR
    except (OperationalError, ArgumentError) as exc:
        reason = str(getattr(exc, "orig", exc) or exc).splitlines()[0]
        print(f"hotspot: error: cannot use the database: {reason}", file=sys.stderr)
        return EXIT_USER_ERROR
    except (FileNotFoundError, PermissionError, IsADirectoryError) as exc:
        print(f"hotspot: error: {exc.strerror}: {exc.filename}", file=sys.stderr)
        return EXIT_USER_ERROR
    finally:
        while _ENGINES:
            _ENGINES.pop().dispose()


if __name__ == "__main__":
    sys.exit(main())
