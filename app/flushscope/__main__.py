"""``python -m flushscope``."""

import sys

from flushscope.cli import main

sys.exit(main())
