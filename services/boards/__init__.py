"""Boards: dashboards of chart, number, table and note tiles (issue 22)."""
