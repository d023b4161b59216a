"""A trained run, written up: the report (report.md/.html), the curves of its log, the architecture diagram."""
