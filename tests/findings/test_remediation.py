"""One remediation line per ecosystem, naming the fixed version."""

from __future__ import annotations

import pytest

from vulnhound.findings.remediation import remediation_for
from vulnhound.inventory.model import Package


@pytest.mark.parametrize(("ptype", "name", "fixed", "expected"), [
    ("deb", "openssl", "3.0.11-1~deb12u2", "apt-get update && apt-get install --only-upgrade openssl"),
    ("pypi", "jinja2", "2.11.3", "pip install 'jinja2>=2.11.3'"),
    ("npm", "lodash", "4.17.21", "npm install lodash@4.17.21"),
    ("golang", "golang.org/x/net", "0.17.0", "go get golang.org/x/net@v0.17.0 && go mod tidy"),
    ("golang", "stdlib", "1.21.3", "Rebuild with Go 1.21.3 or later"),
    ("cargo", "time", "0.2.23", "cargo update -p time --precise 0.2.23"),
    ("apk", "openssl", "1.1.1d-r3", "apk upgrade openssl"),
])
def test_remediation(ptype: str, name: str, fixed: str, expected: str) -> None:
    pkg = Package(name=name, version="0", type=ptype, purl=f"pkg:{ptype}/{name}@0", found_by="t")
    assert remediation_for(pkg, fixed) == expected


def test_no_fix_says_so() -> None:
    pkg = Package(name="putty", version="0.74-1", type="deb", purl="pkg:deb/debian/putty@0.74-1", found_by="t")
    assert remediation_for(pkg, None).startswith("No fixed version of putty is available yet")
