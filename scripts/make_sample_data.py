"""Generate the data files shipped with ``sample_project/`` (seeded: re-running gives the same data).

Writes ``sample_project/data/products.csv``, ``orders.csv`` (with Python's csv module) and
``customers.parquet`` (through DuckDB's ``COPY ... (FORMAT parquet)``). The data imitates a small
web shop in 2024: a few hundred customers in three sales regions, a few thousand orders, some
NULLs (guest checkouts, missing e-mails, unshipped orders) and some non-ASCII or HTML-special text
so that JSON encoding gets exercised. The CSV files are byte-identical on every run; the Parquet
file is too, for a given DuckDB version.

Usage: ``python scripts/make_sample_data.py [--out sample_project/data]``
"""

# The sample data contains non-ASCII letters and symbols on purpose (JSON encoding tests).
# ruff: noqa: RUF001

from __future__ import annotations

import argparse
import csv
import random
import unicodedata
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path

import duckdb

SEED = 20240101
N_CUSTOMERS = 400
N_ORDERS = 3000
YEAR_START = datetime(2024, 1, 1)
YEAR_DAYS = 366  # 2024 is a leap year
FIRST_ORDER_ID = 100001
# Busier in October, busiest in November and December.
DAY_WEIGHTS = [3 if day >= 305 else 2 if day >= 274 else 1 for day in range(YEAR_DAYS)]

# category -> [(product, list_price, unit_cost)]
CATALOG: dict[str, list[tuple[str, float, float]]] = {
    "Books": [
        ("The Pragmatic Analyst", 34.90, 14.20),
        ("SQL for Humans", 29.00, 11.50),
        ("Crème Brûlée at Home", 24.50, 9.80),
        ("Data Visualisation Handbook", 42.00, 18.00),
    ],
    "Toys": [
        ("Wooden Train Set", 59.00, 27.00),
        ("Puzzle Cube 3×3", 12.99, 4.10),
        ("Plush Narwhal", 19.90, 6.40),
        ("Kite – Delta", 27.50, 10.25),
    ],
    "Electronics": [
        ("USB-C Cable <2m>", 9.99, 2.30),
        ("Noise-Cancelling Headphones", 199.00, 112.00),
        ("Smart Plug", 24.99, 11.75),
        ("E-Reader", 129.00, 81.50),
    ],
    "Home & Kitchen": [
        ("Café Espresso Cups (4)", 32.00, 12.60),
        ("Chef's Knife", 79.00, 31.00),
        ("Cast-Iron Skillet", 45.00, 19.90),
        ("Bamboo Cutting Board", 18.50, 6.10),
    ],
    "Garden": [
        ("Herb Planter", 22.00, 8.30),
        ("Garden Hose 20 m", 38.00, 17.20),
        ("Pruning Shears", 26.90, 10.40),
        ("Bird Feeder", 15.50, 5.20),
    ],
    "Sports": [
        ("Yoga Mat", 35.00, 13.00),
        ("Running Socks (3-pack)", 14.90, 4.70),
        ("Water Bottle 750 ml", 17.90, 5.90),
        ("Jump Rope", 11.00, 3.20),
    ],
}

# region -> [(country, weight)]
COUNTRIES: dict[str, list[tuple[str, int]]] = {
    "AMER": [("United States", 6), ("Canada", 2), ("Brazil", 2), ("Mexico", 1)],
    "EMEA": [
        ("Germany", 4),
        ("France", 3),
        ("United Kingdom", 3),
        ("Spain", 2),
        ("Sweden", 1),
        ("Türkiye", 1),
    ],
    "APAC": [("Japan", 3), ("Australia", 2), ("India", 2), ("Singapore", 1)],
}
REGION_WEIGHTS = {"AMER": 4, "EMEA": 4, "APAC": 2}

FIRST_NAMES = [
    "Ada", "Alex", "Amara", "Björn", "Carlos", "Chloé", "Daniel", "Emma", "François", "Grace",
    "Hiroshi", "Ingrid", "João", "Kenji", "Léa", "Liam", "Łukasz", "Maria", "Mateo", "Mia",
    "Noah", "Olivia", "Priya", "Rahul", "Sofía", "Søren", "Wei", "Zoë",
]  # fmt: skip
LAST_NAMES = [
    "Andersson", "Brown", "Dubois", "García", "Kowalski", "Martin", "Müller", "Nakamura", "Nguyen",
    "O'Brien", "Patel", "Rossi", "Santos", "Schmidt", "Silva", "Smith", "Tanaka", "Yılmaz",
]  # fmt: skip
CJK_NAMES = ["佐藤 花子", "山田 太郎", "李 雷", "王 芳"]
EMAIL_DOMAINS = [("gmail.com", 6), ("outlook.com", 3), ("proton.me", 1), ("yahoo.com", 2), ("acme.io", 1)]
COUPONS = ["WELCOME10", "SPRING24", "SUMMER24"]

ORDERS_HEADER = ["order_id", "ordered_at", "shipped_at", "customer_id", "product_id", "quantity",
                 "unit_price", "coupon_code", "status"]  # fmt: skip


@dataclass(frozen=True)
class Customer:
    """One row of customers.parquet."""

    customer_id: int
    name: str
    email: str | None
    country: str
    region: str
    segment: str
    signup_date: date


def _weighted(rng: random.Random, items: list[tuple[str, int]]) -> str:
    return rng.choices([name for name, _ in items], weights=[w for _, w in items])[0]


# Letters that NFKD does not decompose into an ASCII base letter.
_ASCII_FOLD = str.maketrans({"ı": "i", "ł": "l", "Ł": "L", "ø": "o", "Ø": "O", "ß": "ss"})


def _ascii_slug(text: str) -> str:
    folded = unicodedata.normalize("NFKD", text.translate(_ASCII_FOLD)).encode("ascii", "ignore").decode()
    return "".join(ch for ch in folded.lower() if ch.isalnum())


def make_products() -> list[tuple[int, str, str, float, float]]:
    """The catalogue as rows ``(product_id, product, category, list_price, unit_cost)``."""
    rows = []
    product_id = 1
    for category, products in CATALOG.items():
        for product, list_price, unit_cost in products:
            rows.append((product_id, product, category, list_price, unit_cost))
            product_id += 1
    return rows


def make_customers(rng: random.Random) -> list[Customer]:
    """Customers with a home country (and region), some without e-mail address."""
    customers = []
    for customer_id in range(1, N_CUSTOMERS + 1):
        region = _weighted(rng, list(REGION_WEIGHTS.items()))
        country = _weighted(rng, COUNTRIES[region])
        if (country == "Japan" and rng.random() < 0.4) or (country == "Singapore" and rng.random() < 0.3):
            name = rng.choice(CJK_NAMES)
            local_part = f"user{customer_id}"
        else:
            first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
            name = f"{first} {last}"
            local_part = f"{_ascii_slug(first)}.{_ascii_slug(last)}{customer_id}"
        email = None if rng.random() < 0.05 else f"{local_part}@{_weighted(rng, EMAIL_DOMAINS)}"
        segment = "business" if rng.random() < 0.2 else "consumer"
        signup = date(2022, 1, 1) + timedelta(days=rng.randrange(0, 912))  # up to mid 2024
        customers.append(Customer(customer_id, name, email, country, region, segment, signup))
    return customers


def _order_time(rng: random.Random) -> datetime:
    day = rng.choices(range(YEAR_DAYS), weights=DAY_WEIGHTS)[0]
    return YEAR_START + timedelta(days=day, seconds=rng.randrange(0, 86400))


def _status(rng: random.Random, ordered_at: datetime) -> str:
    if ordered_at >= datetime(2024, 12, 24):
        return rng.choice(["placed", "placed", "shipped"])
    roll = rng.random()
    if roll < 0.70:
        return "delivered"
    if roll < 0.80:
        return "shipped"
    if roll < 0.91:
        return "cancelled"
    return "returned"


def make_orders(
    rng: random.Random, customers: list[Customer], products: list[tuple[int, str, str, float, float]]
) -> list[list[object]]:
    """Orders sorted by time; ``None`` marks a NULL (guest checkout, unshipped, no coupon)."""
    times = sorted(_order_time(rng) for _ in range(N_ORDERS))
    popularity = [rng.randint(1, 6) for _ in products]
    rows: list[list[object]] = []
    for offset, ordered_at in enumerate(times):
        customer = None if rng.random() < 0.02 else rng.choice(customers)
        product_id, _, _, list_price, _ = rng.choices(products, weights=popularity)[0]
        quantity = rng.randint(6, 12) if rng.random() < 0.04 else rng.choice([1, 1, 1, 2, 2, 3, 4, 5])
        coupon = rng.choice(COUPONS) if rng.random() < 0.12 else None
        unit_price = round(list_price * 0.9, 2) if coupon else list_price
        status = _status(rng, ordered_at)
        shipped_at = None
        if status in ("shipped", "delivered", "returned"):
            shipped_at = ordered_at + timedelta(hours=rng.randint(6, 120), minutes=rng.randrange(60))
        rows.append([
            FIRST_ORDER_ID + offset,
            ordered_at.strftime("%Y-%m-%d %H:%M:%S"),
            shipped_at.strftime("%Y-%m-%d %H:%M:%S") if shipped_at else None,
            customer.customer_id if customer else None,
            product_id,
            quantity,
            f"{unit_price:.2f}",
            coupon,
            status,
        ])  # fmt: skip
    return rows


def _write_csv(path: Path, header: list[str], rows: list[list[object]]) -> None:
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(header)
        writer.writerows([["" if v is None else v for v in row] for row in rows])


def _write_customers_parquet(path: Path, customers: list[Customer]) -> None:
    con = duckdb.connect()
    con.execute(
        "CREATE TABLE customers (customer_id INTEGER, name VARCHAR, email VARCHAR, country VARCHAR,"
        " region VARCHAR, segment VARCHAR, signup_date DATE)"
    )
    con.executemany(
        "INSERT INTO customers VALUES (?, ?, ?, ?, ?, ?, ?)",
        [[c.customer_id, c.name, c.email, c.country, c.region, c.segment, c.signup_date] for c in customers],
    )
    target = str(path).replace("'", "''")
    con.execute(f"COPY (SELECT * FROM customers ORDER BY customer_id) TO '{target}' (FORMAT parquet)")
    con.close()


def main(argv: list[str] | None = None) -> None:
    """Write the sample data files into ``--out`` (default: ``sample_project/data``)."""
    default_out = Path(__file__).resolve().parent.parent / "sample_project" / "data"
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--out", type=Path, default=default_out)
    args = parser.parse_args(argv)
    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)

    rng = random.Random(SEED)
    products = make_products()
    customers = make_customers(rng)
    orders = make_orders(rng, customers, products)

    _write_csv(
        out / "products.csv",
        ["product_id", "product", "category", "list_price", "unit_cost"],
        [[pid, name, cat, f"{price:.2f}", f"{cost:.2f}"] for pid, name, cat, price, cost in products],
    )
    _write_csv(out / "orders.csv", ORDERS_HEADER, orders)
    _write_customers_parquet(out / "customers.parquet", customers)
    for name in ("products.csv", "orders.csv", "customers.parquet"):
        print(f"wrote {out / name} ({(out / name).stat().st_size} bytes)")


if __name__ == "__main__":
    main()
