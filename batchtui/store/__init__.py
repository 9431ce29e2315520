"""Persistence: a TinyDB repository with atomic writes and an inter-process lock."""

from .repository import Repository, Transaction, default_db_path

__all__ = ["Repository", "Transaction", "default_db_path"]
