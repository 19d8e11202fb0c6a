"""The table ``nox -s bench`` prints: each figure with its target and a pass/miss mark."""

from collections.abc import Sequence
from dataclasses import dataclass

from drills.bench.load import Result


@dataclass(frozen=True)
class Row:
    number: str
    what: str
    measured: str
    target: str = ""
    #: True: met; False: missed; None: reported, not judged.
    met: bool | None = None

    @property
    def mark(self) -> str:
        return {True: "pass", False: "MISS", None: ""}[self.met]


def table(rows: Sequence[Row]) -> str:
    headers = Row("#", "measure", "result", "target")
    widths = [
        max(len(getattr(row, name)) for row in [headers, *rows])
        for name in ("number", "what", "measured", "target")
    ]
    lines = []
    for row in [headers, *rows]:
        cells = (row.number, row.what, row.measured, row.target)
        text = "  ".join(cell.ljust(width) for cell, width in zip(cells, widths, strict=True))
        lines.append(f"{text}  {row.mark if row is not headers else 'mark'}".rstrip())
        if row is headers:
            lines.append("-" * len(lines[0]))
    return "\n".join(lines)


def absolute(results: Sequence[tuple[str, Result]], clocks: Sequence[str]) -> str:
    """req/s, latency percentiles and CPU per request, one line per (label, result)."""
    width = max(len(label) for label, _ in results) + 2
    widths = {name: max(14, len(name) + 6) for name in clocks}
    cpu_headers = "".join(f"{name + ' CPU':>{widths[name]}}" for name in clocks)
    latency = f"{'p50 ms':>9}{'p90 ms':>9}{'p99 ms':>9}"
    lines = [f"{'':<{width}}{'req/s':>8}{latency}{cpu_headers}{'errors':>8}"]
    for label, result in results:
        cpu = "".join(
            f"{result.cpu_ms_per_request[name]:>{widths[name] - 3}.3f} ms"
            if name in result.cpu_ms_per_request
            else f"{'':>{widths[name]}}"
            for name in clocks
        )
        lines.append(
            f"{label:<{width}}{result.requests_per_second:>8.0f}{result.p50_ms:>9.2f}"
            f"{result.p90_ms:>9.2f}{result.p99_ms:>9.2f}{cpu}{result.errors:>8}"
        )
    return "\n".join(lines)
