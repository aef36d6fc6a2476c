"""Travel avoided: postcode coordinates, versioned factor sets (seeded with the 2025 and
2026 sets), an analyst's district-to-site road matrix, and one record per appointment.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-23
"""

from collections.abc import Sequence

from datetime import UTC, date, datetime
from decimal import Decimal

import sqlalchemy as sa
from alembic import op

revision: str = '0005'
down_revision: str | None = '0004'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('postcodes',
    sa.Column('postcode', sa.String(length=8), nullable=False),
    sa.Column('easting', sa.Integer(), nullable=False),
    sa.Column('northing', sa.Integer(), nullable=False),
    sa.Column('quality', sa.Integer(), nullable=False),
    sa.Column('source', sa.String(length=100), nullable=False),
    sa.PrimaryKeyConstraint('postcode', name=op.f('pk_postcodes'))
    )
    op.create_table('travel_factor_sets',
    sa.Column('version', sa.String(length=20), nullable=False),
    sa.Column('valid_from', sa.Date(), nullable=False),
    sa.Column('co2e_kg_per_km', sa.Numeric(precision=10, scale=5), nullable=False),
    sa.Column('co2e_source', sa.String(length=200), nullable=False),
    sa.Column('cost_per_mile', sa.Numeric(precision=6, scale=3), nullable=False),
    sa.Column('cost_source', sa.String(length=200), nullable=False),
    sa.Column('average_speed_kmh', sa.Numeric(precision=6, scale=2), nullable=False),
    sa.Column('default_circuity', sa.Numeric(precision=4, scale=2), nullable=False),
    sa.Column('site_circuity', sa.JSON(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('version', name=op.f('pk_travel_factor_sets')),
    sa.UniqueConstraint('valid_from', name=op.f('uq_travel_factor_sets_valid_from'))
    )
    op.create_table('travel_road_matrix',
    sa.Column('district', sa.String(length=4), nullable=False),
    sa.Column('site_id', sa.Integer(), nullable=False),
    sa.Column('road_km', sa.Numeric(precision=8, scale=3), nullable=False),
    sa.Column('drive_minutes', sa.Numeric(precision=8, scale=2), nullable=False),
    sa.ForeignKeyConstraint(['site_id'], ['sites.id'], name=op.f('fk_travel_road_matrix_site_id_sites'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('district', 'site_id', name=op.f('pk_travel_road_matrix'))
    )
    op.create_table('appointment_travel',
    sa.Column('appointment_id', sa.Integer(), nullable=False),
    sa.Column('factor_version', sa.String(length=20), nullable=False),
    sa.Column('mode', sa.String(length=20), nullable=False),
    sa.Column('local_date', sa.Date(), nullable=False),
    sa.Column('local_month', sa.String(length=7), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('service_id', sa.Integer(), nullable=False),
    sa.Column('clinician_id', sa.Integer(), nullable=False),
    sa.Column('site_id', sa.Integer(), nullable=True),
    sa.Column('icc', sa.String(length=100), nullable=False),
    sa.Column('baseline_km', sa.Numeric(precision=10, scale=2), nullable=False),
    sa.Column('baseline_minutes', sa.Numeric(precision=10, scale=1), nullable=False),
    sa.Column('actual_km', sa.Numeric(precision=10, scale=2), nullable=False),
    sa.Column('actual_minutes', sa.Numeric(precision=10, scale=1), nullable=False),
    sa.Column('avoided_km', sa.Numeric(precision=10, scale=2), nullable=False),
    sa.Column('avoided_miles', sa.Numeric(precision=10, scale=2), nullable=False),
    sa.Column('avoided_minutes', sa.Numeric(precision=10, scale=1), nullable=False),
    sa.Column('avoided_co2e_kg', sa.Numeric(precision=12, scale=3), nullable=False),
    sa.Column('avoided_cost_gbp', sa.Numeric(precision=12, scale=2), nullable=False),
    sa.Column('method', sa.String(length=20), nullable=False),
    sa.Column('confidence', sa.String(length=10), nullable=False),
    sa.Column('note', sa.String(length=200), nullable=True),
    sa.Column('computed_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['appointment_id'], ['appointments.id'], name=op.f('fk_appointment_travel_appointment_id_appointments'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['factor_version'], ['travel_factor_sets.version'], name=op.f('fk_appointment_travel_factor_version_travel_factor_sets')),
    sa.PrimaryKeyConstraint('appointment_id', name=op.f('pk_appointment_travel'))
    )
    op.create_index('ix_appointment_travel_local_date', 'appointment_travel', ['local_date'])
    op.create_table('travel_queue',
    sa.Column('appointment_id', sa.Integer(), nullable=False),
    sa.Column('queued_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['appointment_id'], ['appointments.id'], name=op.f('fk_travel_queue_appointment_id_appointments'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('appointment_id', name=op.f('pk_travel_queue'))
    )

    seed_factors()

def seed_factors() -> None:
    """The factor sets in force when this was written, frozen here (a migration must not
    change with later code); later sets are added as data. Sources and *confirm* notes are in
    telehealth/travel/maths.py."""
    table = sa.table(
        "travel_factor_sets",
        sa.column("version", sa.String()),
        sa.column("valid_from", sa.Date()),
        sa.column("co2e_kg_per_km", sa.Numeric(10, 5)),
        sa.column("co2e_source", sa.String()),
        sa.column("cost_per_mile", sa.Numeric(6, 3)),
        sa.column("cost_source", sa.String()),
        sa.column("average_speed_kmh", sa.Numeric(6, 2)),
        sa.column("default_circuity", sa.Numeric(4, 2)),
        sa.column("site_circuity", sa.JSON()),
        sa.column("created_at", sa.DateTime(timezone=True)),
    )
    now = datetime.now(UTC)
    if op.get_bind().dialect.name == "sqlite":
        now = now.replace(tzinfo=None)  # the app stores naive UTC text on SQLite
    op.bulk_insert(
        table,
        [
            {
                "version": "2025.1", "valid_from": date(2025, 4, 6),
                "co2e_kg_per_km": Decimal("0.16725"),
                "co2e_source": "DESNZ 2025 GHG conversion factors",
                "cost_per_mile": Decimal("0.45"),
                "cost_source": "HMRC approved mileage allowance payments 2025/26",
                "average_speed_kmh": Decimal("48"), "default_circuity": Decimal("1.3"),
                "site_circuity": {}, "created_at": now,
            },
            {
                "version": "2026.1", "valid_from": date(2026, 4, 6),
                "co2e_kg_per_km": Decimal("0.16725"),
                "co2e_source": "DESNZ 2025 GHG conversion factors",
                "cost_per_mile": Decimal("0.55"),
                "cost_source": "HMRC approved mileage allowance payments 2026/27 (reported)",
                "average_speed_kmh": Decimal("48"), "default_circuity": Decimal("1.3"),
                "site_circuity": {}, "created_at": now,
            },
        ],
    )


def downgrade() -> None:
    op.drop_table('travel_queue')
    op.drop_index('ix_appointment_travel_local_date', table_name='appointment_travel')
    op.drop_table('appointment_travel')
    op.drop_table('travel_road_matrix')
    op.drop_table('travel_factor_sets')
    op.drop_table('postcodes')
