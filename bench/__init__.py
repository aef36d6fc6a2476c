"""Benchmarks for Bay Telehealth: a year of bookings in PostgreSQL, slot search and booking.

Run from the repository root with `make bench` (or `.venv/bin/python bench/run.py --quick`).
"""
