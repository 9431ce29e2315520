"""Every limit batchtui enforces, stated once: the models' field constraints, the service's
checks, the API's request schemas and the TUI's inputs all read them from here (and their
messages say the number from here too).

No imports: the CLI's parser and the TUI's first frame read these before any model loads.
"""

from __future__ import annotations

# ------------------------------------------------------------------ names

MAX_NAME_CHARS = 200
"""Characters in a batch name (after runs of whitespace are folded)."""

MAX_COPY_SUFFIX_CHARS = len(" (copy 9999)")
MAX_COPY_BASE_CHARS = MAX_NAME_CHARS - MAX_COPY_SUFFIX_CHARS
"""How much of a batch's name its copy keeps, so "<name> (copy N)" is still a name."""

MAX_TEMPLATE_NAME_CHARS = 64
"""Characters in a template name (it is a file name: letters, digits, '-', '_', '.')."""

TEMPLATE_NAME_PATTERN = rf"^[A-Za-z0-9][A-Za-z0-9_.-]{{0,{MAX_TEMPLATE_NAME_CHARS - 1}}}$"
"""What a template name may be: a letter or digit first, at most `MAX_TEMPLATE_NAME_CHARS`."""

TEMPLATE_NAME_RULE = f"letters, digits, '-', '_' and '.'; up to {MAX_TEMPLATE_NAME_CHARS}"
"""The rule above, as a message says it."""

# ------------------------------------------------------------------ items

LARGEST_MAX_ITEMS = 100_000
"""The largest `max_items` a batch may have (and the most items a template may make)."""

MAX_VARIANTS = 100
"""The most renders of each item a batch may ask for (`variants`)."""

MAX_CHOSEN_ITEMS = 10_000
"""Items one request may choose by name (`retry --item` over HTTP)."""

MAX_CONTENT_CHARS = 100_000
"""Characters in one item's content."""

MAX_CONTENT_BYTES = 120 * 1024
"""Bytes (UTF-8) in one item's content: Linux refuses a single argv string over 128 KiB, and
content is passed to a command as one argument."""

MAX_INPUT_FILE_BYTES = 64 * 1024 * 1024
"""The largest file items are read from (`add --file`, `--csv`, `--jsonl`, the TUI's import)."""

# ------------------------------------------------------------------ running

MIN_CONCURRENCY = 1
MAX_CONCURRENCY = 64
"""Items of one batch running at once."""

CONCURRENCY_RULE = f"between {MIN_CONCURRENCY} and {MAX_CONCURRENCY}"
MIN_PRIORITY, MAX_PRIORITY = -1000, 1000
"""A batch's priority on its host: higher is served first when items wait for a slot."""
PRIORITY_RULE = f"a whole number from {MIN_PRIORITY} to {MAX_PRIORITY} (higher: served first)"
"""The concurrency limits, as a message says them."""

MAX_DURATION = 12 * 3600
"""Seconds of one output (the longest any platform preset allows)."""

MAX_FPS = 120
"""Frames per second of one output."""

MAX_TIMEOUT = 7 * 24 * 3600
"""Seconds one attempt of an item may run."""

MAX_RETRIES = 20
"""Automatic retries per item."""

HISTORY_KEPT = 5
"""Attempts an item's history keeps in full (the newest); older ones are only counted, by how
they ended, so an item that keeps failing run after run costs a bounded size on disk and in
memory."""

MAX_RATE_WAITS = 20
"""Times one item may be told "later" (exit 75, a RETRY-AFTER line) in a run: each wait uses
none of its retries, so this bounds an item that always says "later" (it then fails, "rate
limited 20 times")."""

MAX_RETRY_AFTER = 3600
"""The longest wait a RETRY-AFTER line may ask for, in seconds (a longer one waits this)."""

MAX_BACKOFF = 3600
"""Seconds before an item's first automatic retry."""

LARGEST_BACKOFF_MAX = 24 * 3600
"""The largest `backoff_max` (the longest wait between two retries)."""

OUTPUT_EXT_PATTERN = r"^[A-Za-z0-9]{1,8}$"
"""An output file extension: up to 8 letters or digits, no dot."""

MAX_FAILURES_PATTERN = r"^[1-9][0-9]{0,5}%?$"
"""`max_failures`: a count (up to 6 digits) or a percentage of the run."""

HANDOVER_WAIT = 15.0
"""Seconds a process that began a run waits for the batch's lock to hand the run to its
detached runner (as long as a runner would wait: giving up would strand both)."""

# ------------------------------------------------------------------ the HTTP API

MAX_REQUEST_BYTES = 8 * 1024 * 1024
"""Bytes in one API request's body: larger ones are refused with 413 before they are read
(more items than that take several requests)."""

MAX_BATCH_CONTENT_BYTES = 64 * 1024 * 1024
"""Bytes (UTF-8) of all of one batch's item contents together: a small request (a template, a
copy) can never make a batch of gigabytes."""

HEADER_SECONDS = 10.0
"""Seconds a connection to the API has to send a whole request head (after it connects, or
after its previous answer); then it is closed: connections that never finish their headers
cannot pile up."""

MAX_CONNECTIONS = 512
"""Connections the API keeps open at once; more are closed as they arrive."""

# ------------------------------------------------------------------ the render farm

CLUSTER_HOST_PATTERN = r"\[[0-9a-fA-F:]+\]|[A-Za-z0-9._-]+"
"""A Dask scheduler's host: a name, an IPv4 address or a bracketed IPv6 one."""

CLUSTER_ADDRESS_PATTERN = (
    rf"^(?:(?:tcp|tls)://)?(?:{CLUSTER_HOST_PATTERN})(?::[0-9]{{1,5}})?$|^[Ll][Oo][Cc][Aa][Ll]$"
)
"""What `--cluster` takes: tcp://HOST:PORT (the scheme and the port may be left out), or
'local'."""

NON_BLANK_PATTERN = r"\S"
"""Item content: something other than white space (anywhere in it)."""

MAX_STAGES = 12
"""Stages a pipeline may have (a Short is four or five: script, voice, render, mux)."""

STAGE_NAME_PATTERN = r"^[a-z][a-z0-9_]{0,31}$"
"""A stage's name: `{stage.NAME}` in a command, the pool and the views say it."""

STAGE_NAME_RULE = "a lower-case letter, then up to 31 lower-case letters, digits or '_'"

POOL_NAME_PATTERN = r"^[a-z][a-z0-9_-]{0,31}$"
"""A host pool's name (`[slots] gpu = 2` in settings.toml)."""

MAX_BUDGET = 1_000_000_000.0
"""The largest `--budget` (in whatever unit the items' COST lines use)."""

MAX_NOTE_CHARS = 500
"""A review note's longest (one line: why an output was rejected)."""
