"""Regenerate the zip cases (deterministic: fixed timestamps). Run from this folder: python make_zips.py"""

import io
import stat
import zipfile
from pathlib import Path

TS = (2020, 1, 1, 0, 0, 0)


def metadata(name: str, version: str) -> bytes:
    return f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\nLicense: MIT\n".encode()


def write(path: str, members: list[tuple[str, bytes]], links: dict[str, str] | None = None) -> None:
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in members:
            zf.writestr(zipfile.ZipInfo(name, TS), data, zipfile.ZIP_DEFLATED)
        for name, target in (links or {}).items():
            info = zipfile.ZipInfo(name, TS)
            info.create_system = 3
            info.external_attr = (stat.S_IFLNK | 0o777) << 16
            zf.writestr(info, target)


write("function/app.zip", [
    ("lambda_function.py", b"def handler(event, context):\n    return 1\n"),
    ("requests-2.20.0.dist-info/METADATA", metadata("requests", "2.20.0")),
    ("urllib3-1.24.1.dist-info/METADATA", metadata("urllib3", "1.24.1")),
    ("node_modules/lodash/package.json", b'{"name": "lodash", "version": "4.17.4", "license": "MIT"}'),
    ("node_modules/mkdirp/node_modules/minimist/package.json", b'{"name": "minimist", "version": "0.0.8"}'),
])
write("function/layer1.zip", [
    ("python/lib/python3.12/site-packages/six-1.12.0.dist-info/METADATA", metadata("six", "1.12.0")),
    ("python/lib/python3.12/site-packages/jinja2-2.10.dist-info/METADATA", metadata("Jinja2", "2.10")),
])
# Same path as in layer1: Lambda extracts layers in order, so this one's file wins.
write("function/layer2.zip", [
    ("python/lib/python3.12/site-packages/six-1.12.0.dist-info/METADATA", metadata("six", "1.16.0")),
])
write("traversal/input.zip", [
    ("../evil-1.0.dist-info/METADATA", metadata("evil", "1.0")),
    ("/abs-1.0.dist-info/METADATA", metadata("abs", "1.0")),
    ("a/../../climb-1.0.dist-info/METADATA", metadata("climb", "1.0")),
    ("ok/../fine-1.0.dist-info/METADATA", metadata("fine", "1.0")),
    ("site/good-1.0.dist-info/METADATA", metadata("good", "1.0")),
])
write("symlinks/input.zip", [("site/real-1.0.dist-info/METADATA", metadata("real", "1.0"))], links={
    "site/alias-2.0.dist-info": "real-1.0.dist-info",
    "out-abs": "/etc/passwd",
    "out-rel": "../../../../etc/hostname",
    "loop-a": "loop-b",
    "loop-b": "loop-a",
})
write("bomb/input.zip", [("zeros.bin", bytes(50 << 20))])
write("empty/input.zip", [])
data = Path("function/app.zip").read_bytes()
Path("corrupt").mkdir(exist_ok=True)
Path("corrupt/input.zip").write_bytes(data[: len(data) // 2])
buf = io.BytesIO(data)
Path("corrupt/not-a-zip.zip").write_bytes(b"PK\x03\x04 this is not really a zip archive\n")
# A member whose stored bytes were altered after writing: its CRC no longer matches.
write("corrupt/bad-crc.zip", [("site/crc-1.0.dist-info/METADATA", metadata("crc", "1.0")),
                              ("site/ok-1.0.dist-info/METADATA", metadata("ok", "1.0"))])
raw = bytearray(Path("corrupt/bad-crc.zip").read_bytes())
with zipfile.ZipFile("corrupt/bad-crc.zip") as zf:
    first = zf.infolist()[0]
start = first.header_offset + 30 + len(first.filename)
raw[start + 5] ^= 0xFF
Path("corrupt/bad-crc.zip").write_bytes(bytes(raw))
