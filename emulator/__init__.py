"""A local stand-in for several AWS accounts: moto in server mode plus additions.

Start and stop it with ``python -m emulator start|stop``; see ``README.md``
(section "The local emulator") for its settings and control API.
"""

DEFAULT_PORT = 4566
