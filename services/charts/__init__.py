"""Charts: the ChartSpec, aggregation for Explore, statistics views and PNG images."""
