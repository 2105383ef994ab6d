"""``python -m courtside``: the command of the composition root (courtside/app/cli.py).

Part of the composition root, not of the library half: nothing imports this module.
"""

import sys

from courtside.app.cli import main

sys.exit(main())
