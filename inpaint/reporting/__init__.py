"""A trained run, written up: the report (report.md/.html) and the architecture diagram it draws."""
