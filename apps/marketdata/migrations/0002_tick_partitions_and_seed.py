"""The partitioned tick table, and the seeded instruments and sources."""

from django.db import migrations

TICK_TABLE = """
CREATE TABLE marketdata_tick (
    instrument_id bigint NOT NULL,
    source_id bigint NOT NULL,
    time timestamptz NOT NULL,
    bid numeric(18, 8) NOT NULL,
    ask numeric(18, 8) NOT NULL,
    volume numeric(20, 4) NULL,
    PRIMARY KEY (instrument_id, source_id, time)
) PARTITION BY RANGE (time);
COMMENT ON TABLE marketdata_tick IS
    'Quotes, partitioned by month on time; partitions are created on demand by the ingestion pipeline.';
"""


def seed(apps, schema_editor):
    from apps.marketdata.reference import seed_reference_data

    seed_reference_data(
        apps.get_model("marketdata", "Instrument"), apps.get_model("marketdata", "DataSource")
    )


class Migration(migrations.Migration):
    dependencies = [("marketdata", "0001_initial")]

    operations = [
        migrations.RunSQL(TICK_TABLE, reverse_sql="DROP TABLE marketdata_tick CASCADE;"),
        migrations.RunPython(seed, migrations.RunPython.noop),
    ]
