"""``smartstreets simulate live|backfill|load``: own options, one-line errors, pointers for
the flags that chose a mode before the subcommands."""

import re

import pytest
from typer.testing import CliRunner

from simulators.cli import simulate_app

runner = CliRunner()


def _invoke(args: list[str]) -> tuple[int, str, str]:
    # Wide, so that help lists every option unabridged.
    result = runner.invoke(
        simulate_app, args, prog_name="smartstreets simulate", env={"COLUMNS": "200"}
    )
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture(autouse=True)
def _no_services(monkeypatch: pytest.MonkeyPatch) -> None:
    """No broker or database configured, whatever the environment running the tests has."""
    monkeypatch.delenv("SMARTSTREETS_MQTT_URL", raising=False)
    monkeypatch.delenv("SMARTSTREETS_DATABASE_URL", raising=False)


def test_help_lists_the_modes() -> None:
    """simulate --help names the three modes."""
    code, out, _ = _invoke(["--help"])
    assert code == 0
    assert all(mode in out for mode in ("live", "backfill", "load"))


@pytest.mark.parametrize(
    ("mode", "own", "others"),
    [
        ("live", ["--speedup", "--duplicates", "--register"], ["--days", "--out", "--rate"]),
        ("backfill", ["--days", "--out", "--end", "--no-database"], ["--speedup", "--rate"]),
        ("load", ["--rate", "--duration", "--mqtt-url"], ["--days", "--speedup", "--out"]),
    ],
)
def test_each_mode_has_only_its_own_options(mode: str, own: list[str], others: list[str]) -> None:
    """A mode's --help shows its options and none of the other modes'."""
    code, out, _ = _invoke([mode, "--help"])
    assert code == 0 and "Usage:" in out
    shown = set(re.findall(r"(?<![\w-])--[a-z][a-z-]*", out))
    assert set(own) <= shown, out
    assert not set(others) & shown, out


@pytest.mark.parametrize(
    ("args", "line"),
    [
        (["live"], "error: SMARTSTREETS_MQTT_URL must be set (or use --mqtt-url)"),
        (
            ["backfill", "--days", "3"],
            "error: backfill writes to the database: set SMARTSTREETS_DATABASE_URL or use "
            "--no-database for files only",
        ),
        (
            ["load", "--rate", "100", "--duration", "1"],
            "error: SMARTSTREETS_MQTT_URL must be set (or use --mqtt-url)",
        ),
        (
            ["backfill", "--days", "1", "--no-database", "--council", "Not A Slug"],
            "error: cannot build the town: invalid value: council: String should match pattern "
            "'^[a-z0-9-]{1,40}$'; invalid value: device_id: String should match pattern "
            "'^[A-Za-z0-9_.-]{1,64}$'",
        ),
        (
            ["live", "--council", "Not A Slug", "--mqtt-url", "mqtt://127.0.0.1:1"],
            "error: cannot build the town: invalid value: council: String should match pattern "
            "'^[a-z0-9-]{1,40}$'; invalid value: device_id: String should match pattern "
            "'^[A-Za-z0-9_.-]{1,64}$'",
        ),
    ],
    ids=["live-no-broker", "backfill-no-database", "load-no-broker", "backfill-bad-council",
         "live-bad-council"],
)  # fmt: skip
def test_a_refused_run_is_one_line(args: list[str], line: str) -> None:
    """What the mode cannot run with is one line on stderr and exit 2."""
    code, _, err = _invoke(args)
    assert code == 2
    assert err.strip().splitlines() == [line]


@pytest.mark.parametrize(
    ("args", "option"),
    [
        (["live", "--bins", "-1"], "--bins"),
        (["live", "--duplicates", "1.5"], "--duplicates"),
        (["backfill", "--days", "0"], "--days"),
        (["backfill"], "--days"),
        (["load", "--rate", "0", "--duration", "1"], "--rate"),
        (["load", "--rate", "100"], "--duration"),
    ],
)
def test_bad_arguments_are_usage_errors(args: list[str], option: str) -> None:
    """An out-of-range or missing option is a usage error naming it (exit 2), not a traceback."""
    code, _, err = _invoke(args)
    assert code == 2
    assert option in err and "Traceback" not in err


@pytest.mark.parametrize(
    ("args", "old", "new"),
    [
        (["--days", "28", "--seed", "1"], "--days", "backfill --days"),
        (["--seed", "1", "--days=28"], "--days", "backfill --days"),
        (["--load", "5000", "--duration", "60"], "--load", "load --rate"),
        (["--out", "dir", "--no-database"], "--out", "backfill --out"),
        (["--council", "demo", "--seed", "1"], "--council", "live --council"),
        (["--bins", "-1"], "--bins", "live --bins"),
        (["--late", "0.1"], "--late", "live --late"),
    ],
)
def test_old_flags_point_to_their_mode(args: list[str], old: str, new: str) -> None:
    """A flag that chose a mode before the subcommands is one line pointing to the new form."""
    code, out, err = _invoke(args)
    assert code == 2 and out == ""
    assert err.strip().splitlines() == [
        f"error: 'simulate {old}' is now 'smartstreets simulate {new} ...'"
    ]


def test_unknown_flag_names_the_modes() -> None:
    """A flag no mode ever had is one line naming the modes."""
    code, _, err = _invoke(["--no-such-flag"])
    assert code == 2
    assert err.strip().splitlines() == [
        "error: no such option --no-such-flag: the modes are "
        "'smartstreets simulate live|backfill|load'"
    ]
