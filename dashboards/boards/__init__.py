"""The four dashboards, defined as data."""

from dashboards.boards.footfall import FOOTFALL
from dashboards.boards.highways import HIGHWAYS
from dashboards.boards.operations import OPERATIONS
from dashboards.boards.waste import WASTE
from dashboards.model import Board

BOARDS: tuple[Board, ...] = (OPERATIONS, WASTE, FOOTFALL, HIGHWAYS)
