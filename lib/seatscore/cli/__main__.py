"""``python -m seatscore.cli``."""

import sys

from seatscore.cli import main

sys.exit(main())
