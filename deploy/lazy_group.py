"""A command group that imports a subcommand's code only when that subcommand runs.

The ``smartstreets`` command spans every package: forecasting pulls in LightGBM and pandas, the
API FastAPI, routing PyVRP. Importing all of them for every command cost an ingest worker
about 200 MB and a second of start-up in each of its processes (the writer process re-imports
the command's module). Here each subcommand is named with a loader, and the loader runs when
click asks for that command: to run it, or to list it in ``--help``.
"""

from collections.abc import Callable, Mapping
from typing import ClassVar

import typer
from typer import _click as click  # typer 0.2x carries its own click; its types are these
from typer.core import TyperGroup

Loader = Callable[[], typer.Typer | Callable[..., object]]
"""Returns a sub-application (a group of commands) or the function of a single command."""


class LazyGroup(TyperGroup):
    """A typer group whose subcommands are loaded by name: subclass it with ``loaders`` set."""

    loaders: ClassVar[Mapping[str, Loader]]

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *self.loaders})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        loaded = super().get_command(ctx, cmd_name)
        if loaded is not None or cmd_name not in self.loaders:
            return loaded
        command = as_click(cmd_name, self.loaders[cmd_name]())
        self.add_command(command, cmd_name)
        return command


def as_click(name: str, target: typer.Typer | Callable[..., object]) -> click.Command:
    """The click command of a sub-application or of a single command's function."""
    if isinstance(target, typer.Typer):
        group = typer.main.get_group(target)
        group.name = name
        return group
    single = typer.Typer(add_completion=False)
    single.command(name)(target)
    return typer.main.get_command(single)
