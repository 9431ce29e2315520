"""Runners own runs: the in-process run loop, its recorder, and detached background runners."""
