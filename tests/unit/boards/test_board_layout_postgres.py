"""Two processes editing one board on one PostgreSQL database: every added tile stays and
the reading order stays one clean 0..n-1 sequence (the board row is the lock)."""

import os
import subprocess
import sys
import time
from pathlib import Path

from services.boards import boards
from services.boards.models import BoardInput
from services.store.db import dispose_engines
from tests.factories import make_admin, make_user

ROOT = Path(__file__).resolve().parents[3]
TRIES = 12  # tiles each process adds, moving one after each
CHILD = """
import sys, time
from pathlib import Path
from services.access.users import get_user
from services.boards import boards
from services.boards.models import TileInput
from services.store.db import get_engine
name, board_id, ready, go, tries = sys.argv[1], int(sys.argv[2]), Path(sys.argv[3]), \\
    Path(sys.argv[4]), int(sys.argv[5])
actor = get_user("ana")
get_engine()
ready.touch()
while not go.exists():
    time.sleep(0.005)
places = []
for n in range(tries):
    tile = boards.add_tile(actor, board_id, TileInput(kind="note", note=f"{name} {n}"))
    places.append(tile.position)
    boards.move_tile(actor, board_id, tile.id, "up" if n % 2 else "left")
print(" ".join(map(str, places)))
"""


def test_two_processes_adding_and_moving_tiles_lose_none(
        postgres_url: str, tmp_path: Path) -> None:
    ana = make_user(make_admin(), "ana")
    board = boards.create_board(ana, BoardInput(title="Raced", columns=3))
    dispose_engines()
    go = tmp_path / "go"
    children = [(tmp_path / f"ready-{n}", subprocess.Popen(
        [sys.executable, "-c", CHILD, f"p{n}", str(board.id), str(tmp_path / f"ready-{n}"),
         str(go), str(TRIES)], cwd=ROOT, env=dict(os.environ), text=True,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE)) for n in range(2)]
    deadline = time.monotonic() + 60
    while not all(ready.exists() for ready, _ in children):
        assert time.monotonic() < deadline and all(c.poll() is None for _, c in children)
        time.sleep(0.005)
    go.touch()
    places: list[int] = []
    for _, child in children:
        out, err = child.communicate(timeout=120)
        assert child.returncode == 0, err
        places += [int(p) for p in out.split()]
    # Each new tile went to the end of the board as it stood: taking turns, no two shared a
    # place.
    assert sorted(places) == list(range(2 * TRIES))
    tiles = boards.get_board(ana, board.id).tiles
    assert sorted(t.note for t in tiles) == sorted(f"p{p} {n}" for p in range(2)
                                                   for n in range(TRIES))
    assert [t.position for t in tiles] == list(range(2 * TRIES))
