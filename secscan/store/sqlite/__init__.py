"""The SQLite backend of the Store seam: connections, tables, bulk SQL and the write sessions."""
