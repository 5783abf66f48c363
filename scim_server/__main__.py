"""``python -m scim_server``: the same commands as the ``scim-server`` script."""

import sys

from scim_server.cli import main

sys.exit(main())
