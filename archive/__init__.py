"""veille's archive: turns raw pages into article records and keeps them in SQLite."""

__version__ = "0.1.0"
