"""``python -m styletut`` is the ``styletut`` command."""

import sys

from .cli import main

sys.exit(main())
