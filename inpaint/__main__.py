import sys

from inpaint.cli import main

sys.exit(main())
