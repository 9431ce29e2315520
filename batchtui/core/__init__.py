"""The core: data model, states and the rules on them, platforms, errors; no I/O."""
