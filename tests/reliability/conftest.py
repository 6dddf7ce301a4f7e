from tests.imports.conftest import installation, make_installation

__all__ = ["installation", "make_installation"]
