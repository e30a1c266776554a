#!/usr/bin/env python3
"""The scale model of one deployment (issue 27): from AWS's published quotas and prices and what one
message costs (counted by dev-stack/tests/aws_calls.rs, printed by make bench), what a deployment
carries before a limit bites, which limit comes first, what to ask AWS to raise, and the monthly bill at a
typical marketplace's traffic, 10x and 100x. It writes the tables of docs/cost.md between the markers
`<!-- scale-model:begin -->` and `<!-- scale-model:end -->`; `--check` fails when they are not what the
inputs give (make test runs it), so the tables are redone whenever a count below changes.

    scripts/scale-model.py            # prints the tables
    scripts/scale-model.py --write    # rewrites them in docs/cost.md
    scripts/scale-model.py --check    # exits 1 when docs/cost.md is stale
"""

import math
import pathlib
import sys

# What one message costs, counted (a 2-member booking, a client_message_id, the sender online).
MESSAGE = {
    "write_units": 3,  # dev-stack/tests/aws_calls.rs: the rate limit, the idempotency key, the message
    "read_units": 4,  # the same test: the booking, the newest message, the read positions, the unread count
    "proxy_read_units": 1,  # the proxy's Query of the booking's connection records (aws_calls.rs)
    "lambda_invocations": 2,  # the proxy, and the backend it invokes
    "proxy_ms": 45,  # the proxy's duration, the backend's call included (docs/benchmarks.md)
    "backend_ms": 30,
    "log_bytes": 558,  # prod's, both functions: lambda/tests/logs.rs, backend/tests/api/logs.rs (1,886 before)
    "events": 2,  # message.created, and at most one message.read (docs/events.md)
}

# AWS's list prices, us-east-1 (docs/cost.md says where each comes from).
PRICE = {
    "apigw_message": 1.00e-6,  # WebSocket messages, per 32 KB
    "apigw_connection_minute": 0.25e-6,
    "lambda_request": 0.20e-6,
    "lambda_gb_second": 0.0000133334,  # arm64
    "lambda_memory_gb": 0.25,  # 256 MB
    "write_unit": 0.625e-6,  # DynamoDB on demand
    "read_unit": 0.125e-6,
    "log_gb": 0.50,
    "event": 1.00e-6,  # EventBridge custom events, per 64 KB
    "notification_email": 106.31e-6,  # one emailed message, all told (docs/cost.md, Email notifications)
    "notification_push": 6.85e-6,  # one message pushed to one browser, all told (the same section)
}

# AWS's published default quotas (per account and region unless said), and whether AWS raises them.
QUOTA = {
    "apigw_new_connections_per_s": (500, "API Gateway WebSocket: new connections per second", True),
    "apigw_requests_per_s": (10_000, "API Gateway: requests per second, all APIs of the account (steady rate)", True),
    "apigw_connection_hours": (2, "API Gateway WebSocket: longest connection, in hours", False),
    "lambda_concurrency": (1_000, "Lambda: concurrent executions (a new account may start at 10)", True),
    "dynamodb_table_units_per_s": (40_000, "DynamoDB on demand: write (and read) units per second per table", True),
    "dynamodb_partition_write_units_per_s": (1_000, "DynamoDB: write units per second per partition (one booking)", False),
}

# A typical marketplace's month, the model's unit of traffic.
TYPICAL = {
    "messages_per_month": 1_000_000,  # 50,000 bookings a month, 20 messages each
    "connections": 2_000,  # open at once, on average
    "notified_share": 0.3,  # the messages whose recipient is offline and emailed
}

SECONDS_PER_MONTH = 30 * 24 * 3600


def items(connections: int, notified: str | None) -> list[tuple[str, float]]:
    """What one message costs, item by item, in dollars: in a booking of `connections` connections (the
    sender's included), its recipient `notified` by "email", "push" or not at all (None)."""
    m, p = MESSAGE, PRICE
    # The proxy's Query reads every record of the booking: one unit per 4 KB (a record is about 200 bytes).
    proxy_reads = max(1, math.ceil(connections * 200 / 4096)) * m["proxy_read_units"]
    rows = [
        ("API Gateway messages (the inbound frame, a copy to each connection)", (1 + connections) * p["apigw_message"]),
        ("Lambda requests (the proxy, and the backend it invokes)", m["lambda_invocations"] * p["lambda_request"]),
        ("Lambda duration (256 MB arm64)", p["lambda_memory_gb"] * (m["proxy_ms"] + m["backend_ms"]) / 1000 * p["lambda_gb_second"]),
        ("DynamoDB reads", (m["read_units"] + proxy_reads) * p["read_unit"]),
        ("DynamoDB writes", m["write_units"] * p["write_unit"]),
        ("CloudWatch Logs", m["log_bytes"] / 1e9 * p["log_gb"]),
        ("EventBridge chat events", m["events"] * p["event"]),
    ]
    if notified:
        rows.append(("The notification: one email, or a push to one browser", p[f"notification_{notified}"]))
    return rows


def per_message(connections: int, notified: str | None) -> float:
    """Dollars per message in a booking of `connections` connections (the sender's included)."""
    return sum(cost for _, cost in items(connections, notified))


COLUMNS = [(2, None, "2 connections"), (10, None, "10 connections"), (2, "push", "2, pushed"), (2, "email", "2, emailed")]


def cost_table() -> str:
    """The table of what a million messages cost, item by item, for each column of COLUMNS."""
    names = [name for name, _ in items(2, "email")]
    per_column = [dict(items(connections, notified)) for connections, notified, _ in COLUMNS]
    rows = ["| Per million messages | " + " | ".join(label for *_, label in COLUMNS) + " |"]
    rows.append("| --- |" + " ---: |" * len(COLUMNS))
    for name in names:
        cells = [f"${column[name] * 1e6:,.2f}" if name in column else "" for column in per_column]
        rows.append(f"| {name} | " + " | ".join(cells) + " |")
    totals = [f"**${sum(column.values()) * 1e6:,.2f}**" for column in per_column]
    rows.append("| **Total** | " + " | ".join(totals) + " |")
    events = "EventBridge chat events"
    without = [f"${(sum(column.values()) - column[events]) * 1e6:,.2f}" for column in per_column]
    rows.append("| Without chat events | " + " | ".join(without) + " |")
    return "\n".join(rows)


def limits() -> list[tuple[str, float, str, bool]]:
    """Each limit as (what, messages per second it allows, the quota, raisable)."""
    m, q = MESSAGE, QUOTA
    seconds_held = (m["proxy_ms"] + m["backend_ms"]) / 1000  # the proxy waits while the backend runs
    table_units = q["dynamodb_table_units_per_s"][0]
    return [
        ("API Gateway's request rate (one inbound frame each)", q["apigw_requests_per_s"][0], q["apigw_requests_per_s"][1], True),
        ("Lambda concurrency (two executions per frame, the proxy waiting on the backend)", q["lambda_concurrency"][0] / seconds_held, q["lambda_concurrency"][1], True),
        ("DynamoDB's table throughput (write units)", table_units / m["write_units"], q["dynamodb_table_units_per_s"][1], True),
    ]


def table() -> str:
    rows = []
    order = sorted(limits(), key=lambda limit: limit[1])
    rows.append("| Limit | Messages per second it allows | Default quota | Raisable |")
    rows.append("| --- | ---: | --- | --- |")
    for what, rate, quota, raisable in order:
        rows.append(f"| {what} | {rate:,.0f} | {quota} | {'yes: ask before traffic' if raisable else 'no'} |")
    first = order[0]
    per_booking = QUOTA["dynamodb_partition_write_units_per_s"][0] / (MESSAGE["write_units"] - 1)
    new_per_s, _, _ = QUOTA["apigw_new_connections_per_s"]
    hours = QUOTA["apigw_connection_hours"][0]
    lines = ["\n".join(rows), ""]
    lines.append(
        f"The first limit is {first[0].split(' (')[0]}: about {first[1]:,.0f} messages a second. One booking "
        f"carries at most about {per_booking:,.0f} messages a second (its partition's "
        f"{QUOTA['dynamodb_partition_write_units_per_s'][0]:,} write units, {MESSAGE['write_units'] - 1} a message), "
        f"far above two people typing. Connections: API Gateway closes each after {hours} h, so {new_per_s} new "
        f"connections a second sustain about {new_per_s * hours * 3600:,} open at once, and bring back "
        f"{new_per_s * 60:,} a minute after an outage or a deploy. Bookings have no limit of their own (each is "
        "a partition)."
    )
    held = (MESSAGE["proxy_ms"] + MESSAGE["backend_ms"]) / 1000
    peak = TYPICAL["messages_per_month"] * 100 / SECONDS_PER_MONTH
    lines.append("")
    lines.append(
        f"Each frame holds two executions for {held * 1000:.0f} ms (the proxy waits while the backend runs), so "
        f"a new account's 10 concurrent executions carry about {10 / held:,.0f} messages a second: ask AWS for "
        f"the default {QUOTA['lambda_concurrency'][0]:,} before traffic (the preflight checks the account's quota). "
        f"At 100x the typical month the average is {peak:,.0f} messages a second, so it is a peak of "
        f"{first[1] / peak:,.0f} times the average that meets the first limit."
    )
    lines.append("")
    lines.append("| Traffic | Messages a month | Open connections | 2 connections a booking | 10 connections a booking | With 30% emailed | Connection minutes |")
    lines.append("| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    for factor in (1, 10, 100):
        messages = TYPICAL["messages_per_month"] * factor
        connections = TYPICAL["connections"] * factor
        two = messages * per_message(2, None)
        ten = messages * per_message(10, None)
        share = TYPICAL["notified_share"]
        emailed = messages * ((1 - share) * per_message(2, None) + share * per_message(2, "email"))
        minutes = connections * SECONDS_PER_MONTH / 60 * PRICE["apigw_connection_minute"]
        label = "typical" if factor == 1 else f"{factor}x"
        lines.append(
            f"| {label} | {messages:,} | {connections:,} | ${two:,.2f} | ${ten:,.2f} | ${emailed:,.2f} | ${minutes:,.2f} |"
        )
    lines.append("")
    lines.append(
        f"Per million messages: ${per_message(2, None) * 1e6:,.2f} with 2 connections a booking, "
        f"${per_message(10, None) * 1e6:,.2f} with 10, ${per_message(2, 'email') * 1e6:,.2f} when each is emailed."
    )
    return "\n".join(lines)


def replaced(text: str, name: str, generated: str) -> str | None:
    """`text` with what lies between the markers `<!-- {name}:begin -->` and `<!-- {name}:end -->` replaced."""
    begin, end = f"<!-- {name}:begin -->", f"<!-- {name}:end -->"
    head, _, rest = text.partition(begin)
    _, _, tail = rest.partition(end)
    if not rest:
        print(f"docs/cost.md: no {begin} marker", file=sys.stderr)
        return None
    return f"{head}{begin}\n{generated}\n{end}{tail}"


def main() -> int:
    doc = pathlib.Path(__file__).resolve().parent.parent / "docs" / "cost.md"
    blocks = {"cost-table": cost_table(), "scale-model": table()}
    if len(sys.argv) == 1:
        print("\n\n".join(blocks.values()))
        return 0
    text = doc.read_text()
    wanted = text
    for name, generated in blocks.items():
        wanted = replaced(wanted, name, generated)
        if wanted is None:
            return 1
    if sys.argv[1] == "--write":
        doc.write_text(wanted)
        return 0
    if sys.argv[1] == "--check":
        if text != wanted:
            print("docs/cost.md's generated tables are stale: run scripts/scale-model.py --write", file=sys.stderr)
            return 1
        return 0
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
