"""A run's news leaving the box: events the runner (or recovery) writes to a durable outbox,
and a courier process that delivers them: signed webhooks, people's notifications through
Apprise, and the `on_end` hook. No client (TUI, server, browser) needs to be open."""
