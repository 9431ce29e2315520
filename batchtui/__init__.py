"""batchtui: generate a series of related media from the terminal."""

__version__ = "0.1.0"
