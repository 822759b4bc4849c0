"""Distinguished names compared structurally."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tlsmon.dnmatch import dn_matches, find_match, parse_dn, split_expected
from tlsmon.errors import UsageError

CN, ORG, C, OU = "2.5.4.3", "2.5.4.10", "2.5.4.6", "2.5.4.11"


@pytest.mark.parametrize(
    "text, attrs",
    [
        ("CN=Client CA,O=Example", ((CN, "Client CA"), (ORG, "Example"))),
        ("cn=a\\,b,o=x", ((CN, "a,b"), (ORG, "x"))),
        ("CN=a+OU=b,O=c", ((CN, "a"), (OU, "b"), (ORG, "c"))),
        ("commonName=\\C3\\A9t\\C3\\A9", ((CN, "été"),)),
        ("2.5.4.3=x;OID.2.5.4.10=y", ((CN, "x"), (ORG, "y"))),
        ("CN=\\ leading", ((CN, " leading"),)),
    ],
)
def test_parse(text, attrs):
    assert parse_dn(text) == attrs


@pytest.mark.parametrize("bad", ["", "CN", "FOO=bar", "CN=x,\\"])
def test_parse_errors(bad):
    with pytest.raises(UsageError):
        parse_dn(bad)


@pytest.mark.parametrize(
    "expected, actual, match",
    [
        ("CN=Client CA,O=Example", "O=Example,CN=Client CA", True),
        ("cn=client  ca,o=EXAMPLE", "CN=Client CA,O=Example", True),
        ("CN=Client CA,O=Example", "C=DE,O=Example,CN=Client CA", True),  # country on one side only
        ("C=US,CN=Client CA,O=Example", "C=DE,O=Example,CN=Client CA", False),  # different countries
        ("CN=Client CA,O=Example", "CN=Client CA,O=Example,OU=Unit", False),
        ("CN=Client CA", "CN=Client CA,O=Example", False),
        ("CN=A,CN=A", "CN=A", False),  # a multiset, not a set
    ],
)
def test_matches(expected, actual, match):
    assert dn_matches(parse_dn(expected), parse_dn(actual)) is match


def test_split_expected_and_find():
    names = ["CN=Client CA,O=Example", "CN=Other Client CA,O=Example Two"]
    (shown, attrs, subset), = split_expected(["O=Example Two, CN=other client ca"])
    assert not subset and find_match(attrs, names) == names[1]
    cns = split_expected(["Client CA, Other Client CA"])
    assert [c[0] for c in cns] == ["Client CA", "Other Client CA"]
    assert all(c[2] for c in cns)
    assert [find_match(a, names, subset=s) for _, a, s in cns] == names
    assert find_match(parse_dn("CN=Nobody"), names + ["not a DN"]) is None


@given(st.lists(st.tuples(st.sampled_from(["CN", "O", "OU", "L"]), st.text(min_size=1, max_size=20)),
                min_size=1, max_size=5), st.randoms())
def test_order_and_escaping_do_not_matter(pairs, rnd):
    def esc(v):
        out = "".join("\\" + ch if ch in ',+"\\<>;=' else ch for ch in v)
        if out[:1] in ("#", " "):
            out = "\\" + out
        if out.endswith(" ") and not out.endswith("\\ "):
            out = out[:-1] + "\\ "
        return out

    text = ",".join(f"{k}={esc(v)}" for k, v in pairs)
    shuffled = pairs[:]
    rnd.shuffle(shuffled)
    other = ",".join(f"{k.lower()}={esc(v.upper())}" for k, v in shuffled)
    assert dn_matches(parse_dn(text), parse_dn(other)) == all(
        " ".join(v.casefold().split()) == " ".join(v.upper().casefold().split()) for _, v in pairs)
