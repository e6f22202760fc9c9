"""Property-based tests of the redactor (rules 5 and 8): random text with secrets embedded in
random places, random splits and random encodings is masked; text that holds none is left
byte for byte as it was; redaction is stable when applied twice."""

from __future__ import annotations

import base64
import codecs
import itertools
import json
import string

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from claw_lsp.foundation.secrets import FRAGMENT_GUARANTEED, redact, register_secret
from tests.security.test_secrets_redaction import TOKENS, _pem

PROPERTY_SETTINGS = settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
KEY_ALPHABET = string.ascii_letters + string.digits + "-_"
# Filler: any text at all, including the characters secrets are made of.
filler = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",), max_codepoint=0x2FFF), max_size=80
)
separators = st.sampled_from([" ", "\n", "\t", ": ", "=", '"', "'", " | ", "\n+"])


def _encode(piece: str, how: str) -> str:
    if how == "plain":
        return piece
    if how == "reversed":
        return piece[::-1]
    if how == "upper":
        return piece.upper()
    if how == "lower":
        return piece.lower()
    if how == "rot13":
        return codecs.encode(piece, "rot13")
    if how == "hex":
        return piece.encode().hex()
    if how == "base64":
        return base64.b64encode(piece.encode()).decode()
    raise AssertionError(how)


def _secret_part(encoded: str, how: str) -> str:
    """The part of an encoded piece that must not stay visible: base64's last group also
    encodes the padding, so it may survive (it carries at most two of the key's bytes)."""
    return encoded[:-4] if how == "base64" else encoded


@st.composite
def key_and_pieces(draw: st.DrawFn) -> tuple[str, list[tuple[str, str]]]:
    # Drawn like a real key: uniformly at random (a key like sk-0000... has no distinctive
    # pieces; it is matched whole only, as docs/security.md says).
    rng = draw(st.randoms(use_true_random=False))
    key = "sk-" + "".join(rng.choice(KEY_ALPHABET) for _ in range(draw(st.integers(37, 61))))
    parts = draw(st.integers(1, max(1, len(key) // (FRAGMENT_GUARANTEED + 4))))
    positions = st.integers(1, len(key) - 1)
    cuts = sorted(draw(st.sets(positions, min_size=parts - 1, max_size=parts - 1)))
    pieces = [key[a:b] for a, b in itertools.pairwise([0, *cuts, len(key)])]
    if any(len(p) < FRAGMENT_GUARANTEED for p in pieces):
        pieces = [key[: len(key) // 2], key[len(key) // 2 :]]
    hows = ["plain", "reversed", "upper", "lower", "rot13", "hex", "base64"]
    return key, [(p, draw(st.sampled_from(hows))) for p in pieces]


def _visible(output: str, secret: str) -> bool:
    size = FRAGMENT_GUARANTEED
    return any(secret[i : i + size] in output for i in range(0, len(secret) - size + 1))


@PROPERTY_SETTINGS
@given(key_and_pieces(), st.lists(filler, min_size=8, max_size=8), separators, st.booleans())
def test_a_registered_key_in_random_pieces_and_encodings_is_never_visible(
    key_pieces: tuple[str, list[tuple[str, str]]],
    fillers: list[str],
    separator: str,
    one_result_per_piece: bool,
) -> None:
    key, pieces = key_pieces
    register_secret(key)
    encoded = [(_encode(piece, how), how) for piece, how in pieces]
    texts = [
        f"{fillers[i % 8]}{separator}{shown}{separator}{fillers[(i + 1) % 8]}"
        for i, (shown, _) in enumerate(encoded)
    ]
    outputs = [redact(t) for t in texts] if one_result_per_piece else [redact("\n".join(texts))]
    for out in outputs:
        for shown, how in encoded:
            assert not _visible(out, _secret_part(shown, how)), (shown, out)


@PROPERTY_SETTINGS
@given(
    st.lists(st.sampled_from(sorted(TOKENS)), min_size=1, max_size=4),
    st.lists(filler, min_size=5, max_size=5),
    separators,
)
def test_provider_tokens_anywhere_in_random_text_are_masked(
    names: list[str], fillers: list[str], separator: str
) -> None:
    tokens = [TOKENS[name] for name in names]
    text = fillers[0]
    for n, token in enumerate(tokens):
        text += f"{separator}{token}{separator}{fillers[n + 1]}"
    out = redact(text)
    for token in tokens:
        body = token[len(token) // 3 :]
        assert body[:16] not in out, (token, out)


@PROPERTY_SETTINGS
@given(key_and_pieces(), st.lists(filler, min_size=3, max_size=3))
def test_redaction_is_stable_and_keeps_json_valid(
    key_pieces: tuple[str, list[tuple[str, str]]], fillers: list[str]
) -> None:
    key, _ = key_pieces
    register_secret(key)
    block, _ = _pem("OPENSSH PRIVATE KEY", openssh=True)
    text = json.dumps({"a": fillers[0], "key": key, "url": f"https://u:{fillers[1]}x9@h/p"})
    once = redact(text)
    assert redact(once) == once
    assert isinstance(json.loads(once), dict)
    assert key not in once
    plain = f"{fillers[2]}\n{block}\n{TOKENS['npm']} Authorization: Bearer {key}\n{fillers[0]}"
    once = redact(plain)
    assert redact(once) == once


# Text made of words, digits and light punctuation cannot hold a secret shape.
plain_text = st.text(
    alphabet=st.sampled_from(list(string.ascii_letters + string.digits + " \n.,!()")),
    max_size=400,
)


@PROPERTY_SETTINGS
@given(plain_text)
def test_text_without_secrets_comes_back_unchanged(text: str) -> None:
    assert redact(text) == text
