"""The QA panel: a batch's outputs measured now with ffmpeg's filters (`batchtui qa`), each
one's findings and the series' spread. Measured in a thread; the panel says so meanwhile."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from ...core.errors import BatchtuiError
from ...core.textsafe import one_line
from ..palette import ERROR, STYLES


class QaPanel(ModalScreen[None]):
    """QA of one batch's outputs; escape closes."""

    BINDINGS = [Binding("escape,q,enter,Q", "close", "Close")]

    def __init__(self, batch_id: str, name: str) -> None:
        super().__init__()
        self.batch_id = batch_id
        self.batch_name = name
        self.lines: list[Text] = []
        """What the panel says once measured (tests read it)."""

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog detail"):
            yield Static(
                Text(f"QA of {one_line(self.batch_name, 50)}", style="bold"),
                classes="dialog-title",
            )
            with VerticalScroll(id="qa-body"):
                yield Static(Text("measuring the outputs with ffmpeg …"), id="qa-text")
            yield Static(Text("esc closes · batchtui qa ID says the same", style="dim"))

    def on_mount(self) -> None:
        self.run_worker(self._measure, thread=True, group="qa")

    def _measure(self) -> None:
        service = self.app.service  # type: ignore[attr-defined]
        try:
            report = service.qa_report(self.batch_id)
        except BatchtuiError as exc:
            self.app.call_from_thread(self._show, [Text(str(exc), style=STYLES[ERROR])])
            return
        lines = [Text(f"checks: {', '.join(report.checks)}")]
        if not report.items:
            lines.append(Text("no video output to measure yet"))
        for entry in report.items:
            label = f"{entry.item.label:>4} {one_line(entry.item.content, 30)}"
            if entry.error:
                lines.append(Text(f"✖ {label} — {entry.error}", style=STYLES[ERROR]))
            elif entry.findings:
                reasons = "; ".join(f.reason for f in entry.findings)
                lines.append(Text(f"✖ {label} — {reasons}", style=STYLES[ERROR]))
            else:
                lines.append(Text(f"✔ {label}"))
        if report.items:
            lines.append(Text("series: " + " · ".join(report.spread.words())))
            passed = len(report.items) - len(report.failed)
            lines.append(Text(f"{passed}/{len(report.items)} passed", style="bold"))
        self.app.call_from_thread(self._show, lines)

    def _show(self, lines: list[Text]) -> None:
        self.lines = lines
        if self.is_mounted:
            self.query_one("#qa-text", Static).update(Text("\n").join(lines))

    def action_close(self) -> None:
        self.dismiss(None)
