"""emulator.jsonval: real DuckDB results encoded byte-for-byte as Rill (Go encoding/json + jsonval) does."""

from __future__ import annotations

import random
from collections.abc import Iterator

import duckdb
import orjson
import pytest

from emulator.errors import EmuError
from emulator.jsonval import EncodeError, dumps, encode_result, format_float, make_encoder


@pytest.fixture(scope="module")
def con() -> Iterator[duckdb.DuckDBPyConnection]:
    c = duckdb.connect()
    c.execute("SET TimeZone = 'America/New_York'")  # TIMESTAMPTZ must still print in UTC
    yield c
    c.close()


def enc(con: duckdb.DuckDBPyConnection, sql: str) -> str:
    cur = con.execute(sql)
    return encode_result(cur.description, cur.fetchall()).decode()


def one(con: duckdb.DuckDBPyConnection, expr: str) -> str:
    """The JSON text of a single value: ``SELECT <expr> AS v``."""
    out = enc(con, f"SELECT {expr} AS v")
    assert out.startswith('[{"v":') and out.endswith("}]"), out
    return out[6:-2]


# -- numbers ----------------------------------------------------------------------------------------------


def test_integers_are_exact(con: duckdb.DuckDBPyConnection) -> None:
    assert enc(con, "SELECT 127::TINYINT a, (-32768)::SMALLINT b, 2147483647 c, -9223372036854775808 d") == (
        '[{"a":127,"b":-32768,"c":2147483647,"d":-9223372036854775808}]'
    )
    sql = (
        "SELECT 255::UTINYINT a, 65535::USMALLINT b, 4294967295::UINTEGER c, 18446744073709551615::UBIGINT d"
    )
    assert enc(con, sql) == '[{"a":255,"b":65535,"c":4294967295,"d":18446744073709551615}]'
    assert one(con, "18446744073709551615") == "18446744073709552000"  # the literal is a HUGEINT


@pytest.mark.parametrize(
    ("expr", "text"),
    [
        ("(SELECT SUM(x) FROM (VALUES (1), (4), (6)) t(x))", "11"),  # SUM is HUGEINT
        ("1::HUGEINT", "1"),
        ("-9007199254740993::HUGEINT", "-9007199254740992"),  # rounded to float64
        ("170141183460469231731687303715884105727::HUGEINT", "1.7014118346046923e+38"),
        ("340282366920938463463374607431768211455::UHUGEINT", "3.402823669209385e+38"),
        ("1000000000000000000000000000000::HUGEINT", "1e+30"),
        ("100000000000000000000::HUGEINT", "100000000000000000000"),
        ("3.00::DECIMAL(10,2)", "3"),
        ("2.50::DECIMAL(10,2)", "2.5"),
        ("-0.001::DECIMAL(10,3)", "-0.001"),
        ("123456789012345678.9::DECIMAL(38,1)", "123456789012345680"),
        ("0.0000001::DECIMAL(18,7)", "1e-7"),
        ("1::BIGNUM", "1"),
        ("1152921504606846977::BIGNUM", "1152921504606847000"),
        ("0.1::FLOAT", "0.10000000149011612"),  # float32 widened to float64, as jsonval does
        ("1.5::FLOAT", "1.5"),
        ("3.0::DOUBLE", "3"),
        ("-0.0::DOUBLE", "-0"),
        ("0.1::DOUBLE + 0.2::DOUBLE", "0.30000000000000004"),
        ("0.1 + 0.2", "0.3"),  # DECIMAL arithmetic in DuckDB
        ("123456789.123::DOUBLE", "123456789.123"),
        ("1e20::DOUBLE", "100000000000000000000"),
        ("1e21::DOUBLE", "1e+21"),
        ("1e-6::DOUBLE", "0.000001"),
        ("1e-7::DOUBLE", "1e-7"),
        ("(2^60)::DOUBLE", "1152921504606847000"),
        ("9007199254740993::DOUBLE", "9007199254740992"),
        ("1.5e16::DOUBLE", "15000000000000000"),
        ("'nan'::DOUBLE", "null"),
        ("'inf'::DOUBLE", "null"),
        ("'-inf'::FLOAT", "null"),
    ],
)
def test_numbers_print_as_go_float64(con: duckdb.DuckDBPyConnection, expr: str, text: str) -> None:
    assert one(con, expr) == text


def test_bignum_beyond_float64_is_a_go_marshal_error(con: duckdb.DuckDBPyConnection) -> None:
    with pytest.raises(EncodeError, match=r"json: unsupported value: \+Inf"):
        one(con, "('1' || repeat('0', 400))::BIGNUM")


@pytest.mark.parametrize(
    ("x", "text"),
    [
        (0.0, "0"),
        (-0.0, "-0"),
        (1.0, "1"),
        (2.5, "2.5"),
        (100.0, "100"),
        (1e20, "100000000000000000000"),
        (1e21, "1e+21"),
        (1.5e21, "1.5e+21"),
        (1e-6, "0.000001"),
        (1.5e-6, "0.0000015"),
        (1e-7, "1e-7"),
        (1.5e-7, "1.5e-7"),
        (1e-10, "1e-10"),
        (1e-100, "1e-100"),
        (5e-324, "5e-324"),
        (1.7976931348623157e308, "1.7976931348623157e+308"),
        (-1.5e300, "-1.5e+300"),
        (0.1 + 0.2, "0.30000000000000004"),
        (123456789.123, "123456789.123"),
        (12345678901234567890.0, "12345678901234567000"),
        (-0.000015, "-0.000015"),
    ],
)
def test_format_float(x: float, text: str) -> None:
    assert format_float(x) == text
    assert dumps(x) == text.encode()


def test_format_float_refuses_nan_and_inf() -> None:
    for x, name in ((float("nan"), "NaN"), (float("inf"), r"\+Inf"), (float("-inf"), "-Inf")):
        with pytest.raises(ValueError, match=f"json: unsupported value: {name}"):
            format_float(x)


def test_floats_left_to_orjson_match_go_text() -> None:
    """The magnitudes where orjson writes the float itself must give Go's text exactly."""
    rng = random.Random(7)
    xs = [rng.choice((-1, 1)) * 10 ** rng.uniform(-30, 30) for _ in range(3000)]
    xs += [rng.randint(1, 10**6) / 10 ** rng.randint(0, 12) for _ in range(1000)]
    xs += [1e-5, 1.0000000000000001e-05, 9.99999e-6, 999999999999999.9, 1e15 - 0.5, 1e15 + 0.5, 0.5, -2.5]
    assert dumps(xs).decode() == "[" + ",".join(map(format_float, xs)) + "]"


# -- dates and times --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("expr", "text"),
    [
        ("TIMESTAMP '2022-03-05 14:49:50.459'", '"2022-03-05T14:49:50.459Z"'),
        ("TIMESTAMP '2024-01-02 00:00:00'", '"2024-01-02T00:00:00Z"'),
        ("TIMESTAMP '2024-01-02 03:04:05.120'", '"2024-01-02T03:04:05.12Z"'),
        ("TIMESTAMP '2024-01-02 03:04:05.000001'", '"2024-01-02T03:04:05.000001Z"'),
        ("TIMESTAMPTZ '2024-01-02 00:00:00+00'", '"2024-01-02T00:00:00Z"'),
        ("TIMESTAMPTZ '2024-06-01 12:00:00.5+05:30'", '"2024-06-01T06:30:00.5Z"'),
        ("'2022-03-05 14:49:50.7'::TIMESTAMP_S", '"2022-03-05T14:49:51Z"'),
        ("'2022-03-05 14:49:50.123'::TIMESTAMP_MS", '"2022-03-05T14:49:50.123Z"'),
        ("'2022-03-05 14:49:50.123456789'::TIMESTAMP_NS", '"2022-03-05T14:49:50.123456Z"'),
        ("'infinity'::TIMESTAMP_NS", '"2262-04-11T23:47:16.854775807Z"'),
        ("'-infinity'::TIMESTAMP_NS", '"1677-09-21T00:12:43.145224193Z"'),
        ("TIMESTAMP '0001-01-01 00:00:00' - INTERVAL 1 DAY", '"0000-12-31T00:00:00Z"'),
        ("TIMESTAMPTZ '0001-01-01 00:00:00+00' - INTERVAL 1 DAY", '"0000-12-31T00:00:00Z"'),
        ("TIMESTAMPTZ '0001-01-01 02:00:00+05'", '"0000-12-31T21:00:00Z"'),
        ("DATE '2024-01-02'", '"2024-01-02"'),
        ("DATE '0001-01-01' - 1", '"0000-12-31"'),
        ("DATE '0001-01-01' - 367", '"-0001-12-31"'),  # year 0 is a leap year
        ("'10000-01-01'::DATE", '"10000-01-01"'),
        ("TIME '12:35:00'", '"0001-01-01T12:35:00Z"'),
        ("TIME '12:35:00.250'", '"0001-01-01T12:35:00.25Z"'),
        ("TIME '24:00:00'", '"0001-01-01T00:00:00Z"'),
        ("TIMETZ '12:35:00+02'", '"0001-01-01T12:35:00+02:00"'),
        ("TIMETZ '12:35:00.5-05:30'", '"0001-01-01T12:35:00.5-05:30"'),
        ("TIMETZ '01:00:00+00'", '"0001-01-01T01:00:00Z"'),
        ("TIMETZ '24:00:00+02'", '"0001-01-02T00:00:00+02:00"'),
    ],
)
def test_temporal_values(con: duckdb.DuckDBPyConnection, expr: str, text: str) -> None:
    assert one(con, expr) == text


@pytest.mark.parametrize(
    "expr",
    [
        "'infinity'::TIMESTAMPTZ",
        "'-infinity'::TIMESTAMPTZ",
        "'infinity'::TIMESTAMP_S",
        "'infinity'::TIMESTAMP_MS",
        "'10000-01-01'::TIMESTAMP",
        "DATE '0001-01-01'::TIMESTAMP - INTERVAL 400 DAY",
    ],
)
def test_timestamps_go_cannot_marshal(con: duckdb.DuckDBPyConnection, expr: str) -> None:
    with pytest.raises(EncodeError, match=r"year outside of range \[0,9999\]") as info:
        one(con, expr)
    assert info.value.status == 500


def test_plain_timestamp_infinity_reads_as_the_extreme_value(con: duckdb.DuckDBPyConnection) -> None:
    # DuckDB's Python client returns datetime.max/min, the same as the real extreme values.
    assert one(con, "'infinity'::TIMESTAMP") == '"9999-12-31T23:59:59.999999Z"'
    assert one(con, "'-infinity'::TIMESTAMP") == '"0001-01-01T00:00:00Z"'


@pytest.mark.parametrize(
    ("expr", "text"),
    [
        ("INTERVAL 1 MONTH", "2592000000"),
        ("INTERVAL 1 YEAR", "31104000000"),
        ("INTERVAL '1 day 2 hours'", "93600000"),
        ("INTERVAL '1.5 milliseconds'", "1"),
        ("INTERVAL '-1.5 milliseconds'", "-1"),
        ("INTERVAL '-3 days'", "-259200000"),
    ],
)
def test_intervals_are_milliseconds(con: duckdb.DuckDBPyConnection, expr: str, text: str) -> None:
    assert one(con, expr) == text


# -- strings and bytes ------------------------------------------------------------------------------------


def test_uuid_blob_enum_bit_geometry(con: duckdb.DuckDBPyConnection) -> None:
    uuid = "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"
    assert one(con, f"'{uuid.upper()}'::UUID") == f'"{uuid}"'
    assert one(con, "'ab\\x00\\xFF'::BLOB") == '"YWIA/w=="'
    assert one(con, "''::BLOB") == '""'
    assert one(con, "'x'::ENUM('x', 'y')") == '"x"'
    assert one(con, "'0101'::BIT") == '"0101"'
    assert one(con, "'POINT (1 2)'::GEOMETRY") == '"AQEAAAAAAAAAAADwPwAAAAAAAABA"'


def test_go_string_escaping(con: duckdb.DuckDBPyConnection) -> None:
    sql = "SELECT '<a href=\"x\">&amp;</a>' a, chr(8232) || chr(8233) b, 'back\\slash' d, 'é😀' e, "
    sql += "chr(1) || chr(8) || chr(9) || chr(10) || chr(12) || chr(13) || chr(31) || chr(127) c"
    assert enc(con, sql) == (
        '[{"a":"\\u003ca href=\\"x\\"\\u003e\\u0026amp;\\u003c/a\\u003e","b":"\\u2028\\u2029",'
        '"c":"\\u0001\\b\\t\\n\\f\\r\\u001f\x7f","d":"back\\\\slash","e":"é😀"}]'
    )


# -- nested types -----------------------------------------------------------------------------------------


def test_lists_and_arrays(con: duckdb.DuckDBPyConnection) -> None:
    assert one(con, "[1, NULL, 3]") == "[1,null,3]"
    assert one(con, "[1, 2]::INTEGER[2]") == "[1,2]"
    assert one(con, "[3.00::DECIMAL(4,2), 2.5]") == "[3,2.5]"
    assert one(con, "[[TIMESTAMP '2024-01-02 03:04:05.1'], []]") == '[["2024-01-02T03:04:05.1Z"],[]]'
    assert one(con, "['<x>']") == '["\\u003cx\\u003e"]'
    assert one(con, "[]::INTEGER[]") == "[]"


def test_structs_sort_their_keys(con: duckdb.DuckDBPyConnection) -> None:
    assert one(con, "{'b': 1, 'a': 'x', 'C': NULL}") == '{"C":null,"a":"x","b":1}'
    assert one(con, "{'z': {'y': 2.0::DOUBLE, 'x': DATE '2024-01-02'}, 'a': [1]}") == (
        '{"a":[1],"z":{"x":"2024-01-02","y":2}}'
    )
    assert one(con, "{'u': '00000000-0000-0000-0000-000000000001'::UUID}") == (
        '{"u":"00000000-0000-0000-0000-000000000001"}'
    )


@pytest.mark.parametrize(
    ("expr", "text"),
    [
        ("MAP {2: 'b', 1: 'a'}", '{"1":"a","2":"b"}'),
        ("MAP {'k<': 1.5::DECIMAL(3,1)}", '{"k\\u003c":1.5}'),
        ("MAP {DATE '2024-01-01': 1}", '{"2024-01-01":1}'),
        ("MAP {TIMESTAMP '2024-01-01 10:00:00.5': 1}", '{"2024-01-01T10:00:00.5Z":1}'),
        ("MAP {1.5::DOUBLE: 'a', 3.0::DOUBLE: 'b'}", '{"1.5":"a","3":"b"}'),
        ("MAP {true: 1}", '{"true":1}'),
        ("MAP {2.50::DECIMAL(3,2): 1}", '{"2.5":1}'),
        ("MAP {INTERVAL 1 DAY: 2}", '{"86400000":2}'),
        ("MAP {'a': NULL::INTEGER}", '{"a":null}'),
        ("MAP {}::MAP(INTEGER, INTEGER)", "{}"),
    ],
)
def test_maps_stringify_their_keys(con: duckdb.DuckDBPyConnection, expr: str, text: str) -> None:
    assert one(con, expr) == text


def test_map_keys_the_go_driver_refuses(con: duckdb.DuckDBPyConnection) -> None:
    with pytest.raises(EncodeError, match="MAP key type not supported: index 1"):
        enc(con, "SELECT 1 a, MAP {[1]: 2} m")
    with pytest.raises(EncodeError, match="MAP key type not supported"):
        one(con, "MAP {'x'::BLOB: 1}")
    with pytest.raises(EncodeError, match="MAP key type not supported"):
        one(con, "MAP {'00000000-0000-0000-0000-000000000001'::UUID: 1}")
    assert enc(con, "SELECT MAP {[1]: 2} m WHERE false") == "[]"  # fails only once a chunk is read


def test_json_type_keeps_number_text_and_sorts_keys(con: duckdb.DuckDBPyConnection) -> None:
    assert one(con, """'{"b": 1.50, "a": [1e3, -0, true, null], "c": {"z": "<", "y": 2}}'::JSON""") == (
        '{"a":[1e3,-0,true,null],"b":1.50,"c":{"y":2,"z":"\\u003c"}}'
    )
    assert one(con, """'"s"'::JSON""") == '"s"'
    assert one(con, "'null'::JSON") == "null"
    assert one(con, """['{"a":1}'::JSON, NULL]""") == '[{"a":1},null]'


def test_union_is_the_drivers_value_tag_struct(con: duckdb.DuckDBPyConnection) -> None:
    assert one(con, "union_value(num := 2)") == '{"value":2,"tag":"num"}'
    union = "UNION(i INTEGER, s VARCHAR)"
    assert one(con, f"union_value(s := '<x>')::{union}") == '{"value":"\\u003cx\\u003e","tag":"s"}'
    assert one(con, f"union_value(i := 3)::{union}") == '{"value":3,"tag":"i"}'


NULL_TYPES = [
    "BOOLEAN", "TINYINT", "SMALLINT", "INTEGER", "BIGINT", "UTINYINT", "USMALLINT", "UINTEGER", "UBIGINT",
    "HUGEINT", "UHUGEINT", "FLOAT", "DOUBLE", "DECIMAL(10,2)", "DECIMAL(38,3)", "VARCHAR", "BLOB", "DATE",
    "TIME", "TIMETZ", "TIMESTAMP", "TIMESTAMPTZ", "TIMESTAMP_S", "TIMESTAMP_MS", "TIMESTAMP_NS", "INTERVAL",
    "UUID", "JSON", "BIT", "BIGNUM", "INTEGER[]", "INTEGER[2]", "STRUCT(a INTEGER)", "MAP(VARCHAR, INTEGER)",
    "UNION(a INTEGER, b VARCHAR)", "ENUM('x', 'y')",
]  # fmt: skip


@pytest.mark.parametrize("type_name", NULL_TYPES)
def test_null_of_every_type(con: duckdb.DuckDBPyConnection, type_name: str) -> None:
    assert enc(con, f"SELECT NULL::{type_name} AS v") == '[{"v":null}]'


def test_untyped_null_and_nulls_inside_values(con: duckdb.DuckDBPyConnection) -> None:
    assert enc(con, "SELECT NULL AS v, {'a': NULL} s, [NULL] l") == '[{"l":[null],"s":{"a":null},"v":null}]'


# -- rows -------------------------------------------------------------------------------------------------


def test_keys_sort_by_utf8_bytes(con: duckdb.DuckDBPyConnection) -> None:
    sql = 'SELECT 1 "b", 2 "a", 3 "B", 4 "_", 5 "é", 6 "z", 7 "😀", 8 "\uffff", 9 "10", 10 "9"'
    assert enc(con, sql) == ('[{"10":9,"9":10,"B":3,"_":4,"a":2,"b":1,"z":6,"é":5,"\uffff":8,"😀":7}]')


def test_duplicate_column_names_keep_the_last(con: duckdb.DuckDBPyConnection) -> None:
    assert enc(con, "SELECT 1 AS a, 'x' AS a, 2.5::DECIMAL(2,1) AS b") == '[{"a":"x","b":2.5}]'
    assert enc(con, "SELECT 'x' AS a, DATE '2024-01-02' AS a UNION ALL SELECT 'y', NULL") == (
        '[{"a":"2024-01-02"},{"a":null}]'
    )


def test_rows_keep_database_order_and_empty_is_an_array(con: duckdb.DuckDBPyConnection) -> None:
    assert enc(con, "SELECT * FROM (VALUES (3, 'c'), (1, 'a'), (2, NULL)) t(n, s)") == (
        '[{"n":3,"s":"c"},{"n":1,"s":"a"},{"n":2,"s":null}]'
    )
    assert enc(con, "SELECT 1 AS a WHERE false") == "[]"
    assert encode_result([], []) == b"[]"


def test_make_encoder_is_reusable_and_accepts_type_text(con: duckdb.DuckDBPyConnection) -> None:
    cur = con.execute("SELECT 1.5::DECIMAL(3,1) AS d, DATE '2024-01-02' AS t")
    rows = cur.fetchall()
    encoder = make_encoder(cur.description)
    assert encoder(rows) == encoder(rows) == b'[{"d":1.5,"t":"2024-01-02"}]'
    as_text = [("d", "DECIMAL(3,1)"), ("t", "DATE")]
    assert encode_result(as_text, rows) == b'[{"d":1.5,"t":"2024-01-02"}]'
    assert encode_result(as_text, [(None, "0001-12-31 (BC)")]) == b'[{"d":null,"t":"0000-12-31"}]'


def test_encode_error_is_an_emu_error() -> None:
    assert issubclass(EncodeError, EmuError)


# -- dumps ------------------------------------------------------------------------------------------------


def test_dumps_plain_values() -> None:
    escaped = b'{"error":"bad \\"x\\" \\u003cy\\u003e \\u0026 z\\u2028"}'
    assert dumps({"error": 'bad "x" <y> & z\u2028'}) == escaped
    assert dumps({"b": [1, 2.0, 2.5, True, None], "a": {"d": "é", "c": ()}}) == (
        b'{"a":{"c":[],"d":"\xc3\xa9"},"b":[1,2,2.5,true,null]}'
    )
    assert dumps([]) == b"[]"
    assert dumps("x") == b'"x"'
    assert dumps(None) == b"null"
    assert dumps(False) == b"false"
    assert dumps(-7) == b"-7"
    assert dumps(2**70) == b"1180591620717411303424"
    assert dumps({2: "int key", "10": "str key"}) == b'{"10":"str key","2":"int key"}'
    assert dumps(orjson.Fragment("1.50")) == b"1.50"
    assert dumps("bad \ud800 surrogate") == '"bad \ufffd surrogate"'.encode()


def test_dumps_refuses_what_go_refuses() -> None:
    with pytest.raises(ValueError, match="json: unsupported value: NaN"):
        dumps({"x": [float("nan")]})
    with pytest.raises(ValueError, match=r"json: unsupported value: \+Inf"):
        dumps(float("inf"))
    with pytest.raises(TypeError):
        dumps({(1, 2): "tuple key"})
