"""Reference data every installation has: instruments and the built-in sources."""

from decimal import Decimal

# symbol, base, quote, digits, pip, contract, margin, swap long, swap short, max spread pips, description
INSTRUMENTS = [
    (
        "EURUSD",
        "EUR",
        "USD",
        5,
        "0.0001",
        "100000",
        "0.033333",
        "-6.5",
        "1.2",
        "20",
        "Euro vs US Dollar",
    ),
    (
        "GBPUSD",
        "GBP",
        "USD",
        5,
        "0.0001",
        "100000",
        "0.033333",
        "-4.1",
        "0.3",
        "25",
        "Pound vs US Dollar",
    ),
    (
        "USDJPY",
        "USD",
        "JPY",
        3,
        "0.01",
        "100000",
        "0.033333",
        "14.8",
        "-27.9",
        "25",
        "US Dollar vs Yen",
    ),
    (
        "USDCHF",
        "USD",
        "CHF",
        5,
        "0.0001",
        "100000",
        "0.033333",
        "5.2",
        "-12.4",
        "25",
        "US Dollar vs Swiss Franc",
    ),
    (
        "AUDUSD",
        "AUD",
        "USD",
        5,
        "0.0001",
        "100000",
        "0.05",
        "-3.6",
        "0.1",
        "25",
        "Australian Dollar vs US Dollar",
    ),
    (
        "USDCAD",
        "USD",
        "CAD",
        5,
        "0.0001",
        "100000",
        "0.05",
        "1.4",
        "-5.9",
        "25",
        "US Dollar vs Canadian Dollar",
    ),
    (
        "NZDUSD",
        "NZD",
        "USD",
        5,
        "0.0001",
        "100000",
        "0.05",
        "-2.2",
        "-0.5",
        "30",
        "New Zealand Dollar vs US Dollar",
    ),
    ("EURJPY", "EUR", "JPY", 3, "0.01", "100000", "0.05", "9.7", "-21.3", "35", "Euro vs Yen"),
    ("EURGBP", "EUR", "GBP", 5, "0.0001", "100000", "0.05", "-5.4", "0.6", "30", "Euro vs Pound"),
    ("GBPJPY", "GBP", "JPY", 3, "0.01", "100000", "0.05", "12.3", "-30.2", "50", "Pound vs Yen"),
    (
        "EURCHF",
        "EUR",
        "CHF",
        5,
        "0.0001",
        "100000",
        "0.05",
        "-1.1",
        "-4.8",
        "30",
        "Euro vs Swiss Franc",
    ),
    (
        "AUDJPY",
        "AUD",
        "JPY",
        3,
        "0.01",
        "100000",
        "0.05",
        "6.2",
        "-15.6",
        "40",
        "Australian Dollar vs Yen",
    ),
    ("XAUUSD", "XAU", "USD", 2, "0.1", "100", "0.05", "-45.2", "18.1", "100", "Gold vs US Dollar"),
]

SYNTHETIC_SYMBOLS = ["EURUSD", "GBPUSD", "USDJPY", "USDCHF", "AUDUSD", "USDCAD", "NZDUSD"]


def seed_reference_data(Instrument, DataSource) -> None:
    """Create or update the seeded instruments and sources (idempotent).

    Takes the model classes so the data migration can pass historical models.
    """
    for row in INSTRUMENTS:
        symbol, base, quote, digits, pip, contract, margin, swl, sws, spread, desc = row
        lot_max = Decimal("50") if symbol == "XAUUSD" else Decimal("100")
        Instrument.objects.update_or_create(
            symbol=symbol,
            defaults=dict(
                base_currency=base,
                quote_currency=quote,
                digits=digits,
                pip_size=Decimal(pip),
                contract_size=Decimal(contract),
                margin_rate=Decimal(margin),
                swap_long=Decimal(swl),
                swap_short=Decimal(sws),
                max_spread_pips=Decimal(spread),
                lot_max=lot_max,
                description=desc,
            ),
        )
    DataSource.objects.get_or_create(
        name="history-import",
        defaults=dict(kind="import", description="History files imported by users and operators."),
    )
    synthetic, _ = DataSource.objects.get_or_create(
        name="synthetic",
        defaults=dict(
            kind="synthetic",
            description=(
                "Seeded simulated feed of the majors (not real prices). It trades "
                "around the clock so the demo is alive at weekends."
            ),
            config={"seed": 42, "ticks_per_second": 4.0, "always_open": True},
        ),
    )
    synthetic.instruments.set(Instrument.objects.filter(symbol__in=SYNTHETIC_SYMBOLS))
