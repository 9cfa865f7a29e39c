"""How a live dataset says where it lives and when it was last read (issue 21)."""

from datetime import datetime, timedelta

from components.add_from_database import since, where_words
from services.data.datasets import DatasetView, LiveWhere

NOW = datetime(2026, 12, 6, 10, 0)


def test_recent_reads_are_said_as_people_say_them() -> None:
    assert since(NOW - timedelta(seconds=20), NOW) == "just now"
    assert since(NOW - timedelta(minutes=1, seconds=5), NOW) == "1 minute ago"
    assert since(NOW - timedelta(minutes=5), NOW) == "5 minutes ago"
    assert since(NOW - timedelta(hours=3), NOW) == "3 hours ago"
    assert since(NOW - timedelta(days=2), NOW) == "4 Dec 2026 10:00"


def test_a_live_dataset_says_where_it_lives_a_file_one_nothing() -> None:
    place = LiveWhere(source_id=1, source_name="warehouse", schema_name="public",
                      table_name="penguins", read_at=None)
    live = DatasetView(id=1, name="penguins", description="", owner="ada",
                       visibility="private", current_version=0, versions=0, rows=0, columns=0,
                       bytes=0, created_at=NOW, updated_at=NOW, live=place)
    assert where_words(live) == "Lives in public.penguins in warehouse · not read yet"
    assert where_words(live.model_copy(update={"live": None})) == ""
