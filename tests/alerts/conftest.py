from tests.archive.fixtures import archive, box, database_url, postgres_database, sqlite_template

__all__ = ["archive", "box", "database_url", "postgres_database", "sqlite_template"]
