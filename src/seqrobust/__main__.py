"""``python -m seqrobust`` runs the command line."""

import sys

from seqrobust.cli import main

sys.exit(main())
