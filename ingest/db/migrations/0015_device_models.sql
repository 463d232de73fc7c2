-- Real devices: where a device's readings come from and how its bytes are read.
-- network: mqtt (publishes the contract itself), ttn or chirpstack (LoRaWAN, bridged from the
-- network server's MQTT integration), http (the device API). network_id: the DevEUI (lower-case
-- hex) or the network server's device id; one device per (network, network_id). model: a name in
-- ingest.codecs.MODELS. depth_mm: sensor to bin floor, for ultrasonic fill. model_config: the
-- model's per-device settings (the json model's field mapping). Identical on both storage paths.

ALTER TABLE device
    ADD COLUMN network text NOT NULL DEFAULT 'mqtt'
        CHECK (network IN ('mqtt', 'ttn', 'chirpstack', 'http')),
    ADD COLUMN network_id text CHECK (network_id ~ '^[a-z0-9](?:[a-z0-9_.:-]{0,62}[a-z0-9])?$'),
    ADD COLUMN model text CHECK (model ~ '^[a-z0-9-]{1,40}$'),
    ADD COLUMN depth_mm integer CHECK (depth_mm BETWEEN 1 AND 20000),
    ADD COLUMN model_config jsonb NOT NULL DEFAULT '{}'::jsonb
        CHECK (jsonb_typeof(model_config) = 'object'),
    ADD CHECK (network NOT IN ('ttn', 'chirpstack') OR (network_id IS NOT NULL AND model IS NOT NULL));

CREATE UNIQUE INDEX device_network_id ON device (network, network_id) WHERE network_id IS NOT NULL;
