"""The app's dialog flows, one module per family: each asks (a dialog), then calls the service
and says what happened. Screens and the app call them with the app; none holds state.

- `refusals`: whether the batch as stored now refuses an action, and why (`core.actions`).
- `runs`: start or retry (where to run), run one item again, cancel.
- `batches`: new (or the example), duplicate, save as template, delete, lock, unlock.
- `items`: import items from a text file.
- `quit`: quitting while runs started here are still going.
"""
