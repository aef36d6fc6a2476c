"""The written analysis in docs/PERFORMANCE.md: this run's figures with what they mean.

Statements about the code describe it as it is at the commit benchmarked; figures are
recomputed on every run.
"""

from __future__ import annotations

from bench.report import Results, targets

CLOSE = 0.1  # a target met with less than this share of its limit to spare is flagged


def lines(results: Results) -> list[str]:
    missed = [t for t in targets(results) if not t.met]
    verdict = (
        "All targets are met."
        if not missed
        else "**Missed**: "
        + "; ".join(f"{t.name}: {t.measured} (wanted {t.wanted})" for t in missed)
        + "."
    )
    close = [t for t in targets(results) if t.met and t.headroom < CLOSE]
    if close:
        verdict += (
            f" Close to the limit (less than {CLOSE:.0%} to spare, so a slower or busier "
            "machine may miss it): "
            + "; ".join(f"{t.name}: {t.measured} (wanted {t.wanted})" for t in close)
            + "."
        )
    return ["## Verdict", "", verdict, "", *_slot_search(results), *_booking(results)]


def _slot_search(results: Results) -> list[str]:
    s = results.search
    tail = (
        [
            "- p95 is well above p50 for the bare fetch too: the tail is mostly the shared "
            "two-core machine (the load average when the run began is recorded above)."
        ]
        if s.bare.p95 > 2 * s.bare.p50
        else []
    )
    return [
        "## Analysis: slot search",
        "",
        f"- Handler p50 {s.orm.p50:.1f} ms = `load_availability` {s.load.p50:.1f} ms + "
        f"`expand_slots` {s.expand.p50:.1f} ms for {s.slots:,} slots; the bare fetch of the "
        f"same {s.rows_fetched:,} rows takes {s.bare.p50:.1f} ms, so the ORM and the queries' "
        f"shape add {s.load.p50 - s.bare.p50:.1f} ms and the pure expansion the rest.",
        "- On PostgreSQL the bookings queries ask for appointments whose "
        "`tstzrange(starts_at, busy_until)` overlaps the window, with the same status filter "
        "as the exclusion constraints, so the constraints' GiST indexes answer them and the "
        "cost does not grow with past bookings (plans below: rows kept and thrown away).",
        "- Most of the fetch, ours and the bare one alike, is PostgreSQL reading some 4,600 "
        "bookings and the driver turning their 9,300 instants into Python datetimes (measured "
        "by hand on this machine: about 1 µs each, against a tenth of that for an integer "
        "column). So the absolute figure follows the machine while the ratio to the bare fetch "
        "does not: session 2's written run, on another machine of this kind, had the bare "
        "fetch at 9.4 ms and the handler at 19.4 ms (2.1x).",
        f"- The HTTP endpoint adds {s.http.p50 - s.orm.p50:.1f} ms at p50 over the handler: "
        "token lookup and JSON. Each distinct instant is formatted once per request (a free "
        "time is offered by several clinicians and hubs).",
        *tail,
        "",
    ]  # fmt: skip


def _booking(results: Results) -> list[str]:
    b = results.booking
    app_cpu, bare_cpu = b.app.cpu_ms_per_request(), b.bare.cpu_ms_per_request()
    profile = next((p for p in results.profiles if p.name.startswith("POST")), None)
    statements = f"{profile.statements_per_call:.0f}" if profile else "several"
    return [
        "## Analysis: booking",
        "",
        f"- A booking costs {app_cpu[1]:.1f} ms of server CPU and {app_cpu[2]:.1f} ms of "
        f"PostgreSQL CPU; the bare INSERT {bare_cpu[1]:.1f} ms and {bare_cpu[2]:.1f} ms. Both "
        "uvicorn workers, PostgreSQL and the load generator share two cores, so throughput is "
        "CPU-bound and the rate ratio follows the CPU ratio.",
        "- Under uvicorn a booking is one SQL statement, sent without BEGIN or COMMIT (it "
        "writes with that one statement, which commits itself), against the bare app's "
        "BEGIN, INSERT and COMMIT; the in-process profile below counts "
        f"{statements}, its app having no caches. What a start is checked against (the "
        "service's terms and the clinician's sessions that day with any leave, to refuse a "
        "start off the slot grid with a 422 rather than let it in) is read once per process "
        "and clinic day and kept until a trigger on one of the tables it comes from NOTIFYs a "
        "change; the patient asked for by id is then taken on trust, the foreign key "
        "answering for a missing one. The INSERT writes the appointment, skipping a clashing "
        "random reference with ON CONFLICT and letting the exclusion constraints turn a lost "
        "race into a 409; a data-modifying CTE in the same statement writes its audit row; "
        "triggers write the travel queue row and the change-feed row from which the worker "
        "writes the messages (confirmation, clinician notice, reminders), so booking neither "
        "builds nor stores messages. The token look-up is answered from a per-process cache "
        "that triggers on `api_tokens` and `staff_users` invalidate at commit (NOTIFY).",
        "- Both servers keep up to 20 PostgreSQL connections per process (`DATABASE_POOL_SIZE`). "
        "With SQLAlchemy's default of five, connections opened past the pool at 16 requests in "
        "flight were closed on return and reopened: a PostgreSQL backend forked per few "
        "requests, with every statement prepared again, which cost the app a quarter of its "
        "rate and hid from the per-process CPU figures (the backends had exited).",
        f"- The load generator is wrk ({bare_cpu[0]:.2f} ms of CPU per bare request), so both "
        "servers get the machine; Python HTTP clients spend a millisecond or more per request "
        "on the same two cores and cap the bare endpoint first.",
        "- How the ratio got from 0.27 to here (session 3, each step measured with the same "
        "wrk rounds against the bare app on this machine): messages from a trigger-fed change "
        "feed instead of written by the request, 0.27 to 0.33; the INSERT on the table with "
        "its audit row in the same statement, 0.38; the token cache, 0.43; the clinic day "
        "joined to the parties query, 0.47; the inserted row returned as a named tuple "
        "rather than an entity, 0.49; the parties as plain columns rather than three ORM "
        "entities, 0.55. Each round trip saved is worth about 0.3 ms of the machine (Python, "
        "PostgreSQL and the kernel); ORM entity loading proved as dear as a round trip. "
        "Session 8: the clinic-day cache took the parties query off all but a clinic day's "
        "first booking, 4,373,552 to 3,523,503 instructions per booking in the app's process "
        "(`bench/booking_cost.py --callgrind`, which a busy machine does not blur).",
        f"- What is left of the gap, per booking: the app's {app_cpu[1] + app_cpu[2]:.1f} ms of "
        f"server and PostgreSQL CPU against the bare endpoint's {bare_cpu[1] + bare_cpu[2]:.1f} "
        "ms: the request's validation (pydantic), the slot-grid check (the day's slots "
        "expanded in Python), the larger statement with its audit and trigger rows, and the "
        "response.",
        (
            "- Every booking got 201, and the HTTP endpoint returned exactly the handler's slots."
            if b.app.failures == 0 and b.bare.failures == 0
            else f"- **Failed requests**: app {b.app.failures}, bare {b.bare.failures} "
            "(see the errors under the results)."
        ),
        "",
    ]
