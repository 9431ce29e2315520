"""`batchtui` on the command line: every batch operation as a verb (`cli.main.main`), `--json`
on every read. Nothing loads here: the UI's start-up imports `cli.reporting` alone."""
