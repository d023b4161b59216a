from inpaint.cli import entry

entry()
