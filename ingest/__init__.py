"""The data's front door: device contract, schema, database access and the MQTT ingest worker."""
