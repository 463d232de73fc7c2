"""Database access: connections, migrations, the device registry and the stream writer."""
