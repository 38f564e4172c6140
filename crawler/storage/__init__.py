"""The database: models, engine and sessions, bulk writes, migrations, export and import."""
