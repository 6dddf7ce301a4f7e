"""callarchive: archive Genesys Cloud call recordings for compliance."""

__version__ = "0.1.0"
__all__ = ["__version__"]
