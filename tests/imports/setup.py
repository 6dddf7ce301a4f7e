"""The emulator org's callarchive configuration (kept in demo/, shared with the demo)."""

from demo.configuration import configuration_for

__all__ = ["configuration_for"]
