"""Travel tables: postcode coordinates, versioned factors, an analyst's road matrix, and one
travel record per appointment."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import JSON, Date, ForeignKey, Integer, Numeric, String
from sqlalchemy.orm import Mapped, mapped_column

from telehealth.kernel.db import Base, UTCDateTime, utcnow
from telehealth.travel.maths import FactorSet


class Postcode(Base):
    __tablename__ = "postcodes"

    postcode: Mapped[str] = mapped_column(String(8), primary_key=True)
    easting: Mapped[int] = mapped_column(Integer)
    northing: Mapped[int] = mapped_column(Integer)
    quality: Mapped[int] = mapped_column(Integer, default=0)
    source: Mapped[str] = mapped_column(String(100))


class TravelFactors(Base):
    __tablename__ = "travel_factor_sets"

    version: Mapped[str] = mapped_column(String(20), primary_key=True)
    valid_from: Mapped[date] = mapped_column(Date, unique=True)
    co2e_kg_per_km: Mapped[Decimal] = mapped_column(Numeric(10, 5))
    co2e_source: Mapped[str] = mapped_column(String(200))
    cost_per_mile: Mapped[Decimal] = mapped_column(Numeric(6, 3))
    cost_source: Mapped[str] = mapped_column(String(200))
    average_speed_kmh: Mapped[Decimal] = mapped_column(Numeric(6, 2))
    default_circuity: Mapped[Decimal] = mapped_column(Numeric(4, 2))
    # site id (as text) -> circuity (as text): JSON keeps Decimals exact as strings.
    site_circuity: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    def as_factor_set(self) -> FactorSet:
        return FactorSet(
            version=self.version,
            valid_from=self.valid_from,
            co2e_kg_per_km=Decimal(self.co2e_kg_per_km),
            co2e_source=self.co2e_source,
            cost_per_mile=Decimal(self.cost_per_mile),
            cost_source=self.cost_source,
            average_speed_kmh=Decimal(self.average_speed_kmh),
            default_circuity=Decimal(self.default_circuity),
            site_circuity={int(k): Decimal(v) for k, v in (self.site_circuity or {}).items()},
        )


class RoadMatrix(Base):
    """One-way road distance and drive time from a postcode district to a site."""

    __tablename__ = "travel_road_matrix"

    district: Mapped[str] = mapped_column(String(4), primary_key=True)
    site_id: Mapped[int] = mapped_column(
        ForeignKey("sites.id", ondelete="CASCADE"), primary_key=True
    )
    road_km: Mapped[Decimal] = mapped_column(Numeric(8, 3))
    drive_minutes: Mapped[Decimal] = mapped_column(Numeric(8, 2))


class AppointmentTravel(Base):
    """Round trips for one appointment, with the method, confidence and factor version used."""

    __tablename__ = "appointment_travel"

    appointment_id: Mapped[int] = mapped_column(
        ForeignKey("appointments.id", ondelete="CASCADE"), primary_key=True
    )
    factor_version: Mapped[str] = mapped_column(ForeignKey("travel_factor_sets.version"))
    mode: Mapped[str] = mapped_column(String(20))
    # The appointment's Europe/London date and month, so reports group by local month with a
    # plain GROUP BY on every database.
    local_date: Mapped[date] = mapped_column(Date, index=True)
    local_month: Mapped[str] = mapped_column(String(7))
    # Copies of the appointment's report dimensions as of `computed_at` (the worker keeps
    # them in step), so a year's report scans this one narrow table.
    status: Mapped[str] = mapped_column(String(20))
    organisation_id: Mapped[int] = mapped_column(Integer)
    service_id: Mapped[int] = mapped_column(Integer)
    clinician_id: Mapped[int] = mapped_column(Integer)
    site_id: Mapped[int | None] = mapped_column(Integer)
    icc: Mapped[str] = mapped_column(String(100))  # of the place of the appointment
    # The Integrated Care Community of the patient's postcode district (home_communities.py):
    # the district-level community only, no more of the postcode. NULL until recomputed.
    home_icc: Mapped[str | None] = mapped_column(String(100))
    # When it starts, so the report can tell a forecast (booked, still to come) from the past.
    starts_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    baseline_km: Mapped[Decimal] = mapped_column(Numeric(10, 2))
    baseline_minutes: Mapped[Decimal] = mapped_column(Numeric(10, 1))
    actual_km: Mapped[Decimal] = mapped_column(Numeric(10, 2))
    actual_minutes: Mapped[Decimal] = mapped_column(Numeric(10, 1))
    avoided_km: Mapped[Decimal] = mapped_column(Numeric(10, 2))
    avoided_miles: Mapped[Decimal] = mapped_column(Numeric(10, 2))
    avoided_minutes: Mapped[Decimal] = mapped_column(Numeric(10, 1))
    avoided_co2e_kg: Mapped[Decimal] = mapped_column(Numeric(12, 3))
    avoided_cost_gbp: Mapped[Decimal] = mapped_column(Numeric(12, 2))
    method: Mapped[str] = mapped_column(String(20))
    confidence: Mapped[str] = mapped_column(String(10))
    # Why there is no estimate, when there is none (no postcode, an unknown postcode).
    note: Mapped[str | None] = mapped_column(String(200))
    computed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class TravelQueue(Base):
    """Appointments whose record needs (re)computing: queued in the same transaction as the
    change, taken by the worker. The worker and the report's pending count read this small
    table instead of comparing every appointment with its record."""

    __tablename__ = "travel_queue"

    appointment_id: Mapped[int] = mapped_column(
        ForeignKey("appointments.id", ondelete="CASCADE"), primary_key=True
    )
    queued_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
