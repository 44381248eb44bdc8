"""Provincial-scale benchmarks (issue 6): a deterministic Jiangxi-sized dataset on SQLite and PostgreSQL,
and the figures `make bench` prints. See bench/README.md."""
