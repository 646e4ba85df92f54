"""`python -m tui.config example` prints config.example.toml."""

import sys

from tui.config.example import main

sys.exit(main())
