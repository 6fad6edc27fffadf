# bytes as I/O code meets them: literals and their repr, str.encode and bytes.decode, indexing,
# slicing, iteration, bytes(), and a decode error.
b = b"hi\x00\n\xff\x27"
print(b, len(b), b == b"hi\x00\n\xff\x27")
print(b"ab" + b"c", b"a"[0], list(b"ab"), b"abc"[1:], b"b" in b"abc", 98 in b"abc")
s = "héllo"
e = s.encode()
print(e, e.decode(), e.decode("utf-8"), len(e), e.hex(), s.encode("latin-1"))
print(bytes(3), bytes([65, 66]), bytes("hi", "ascii"), type(e).__name__, isinstance(e, bytes))
print(b"abc".startswith(b"ab"), {b"k": 1}[b"k"], b"x" * 3, repr(b'"'), b"'\"")
try:
    b"\xff".decode()
except UnicodeDecodeError as ex:
    print("decode:", ex)


def header(data, size=4, sep=b": "):
    assert data[size:].startswith(sep)
    return data[:size].decode("ascii"), data[size + len(sep):]


print(header(b"Host: example"))
