"""The Textual application: batch list, item editor and live progress screens.

Only this package imports Textual; it calls the service and never touches the store.
"""
