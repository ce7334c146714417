"""Remediation commands per ecosystem: what a person types to get the fixed version."""

from __future__ import annotations

from vulnhound.inventory.model import Package


def remediation_for(pkg: Package, fixed: str | None) -> str:
    """A one-line command (or instruction) that moves ``pkg`` to ``fixed``; says so when no fix exists."""
    if not fixed:
        return f"No fixed version of {pkg.name} is available yet; watch the advisory or mitigate."
    t = pkg.type
    if t == "deb":
        return f"apt-get update && apt-get install --only-upgrade {pkg.name}"
    if t == "rpm":
        return f"dnf upgrade {pkg.name}  # or: yum update {pkg.name}"
    if t == "apk":
        return f"apk upgrade {pkg.name}"
    if t == "pypi":
        return f"pip install '{pkg.name}>={fixed}'"
    if t == "npm":
        return f"npm install {pkg.name}@{fixed}"
    if t == "golang":
        if pkg.name == "stdlib":
            return f"Rebuild with Go {fixed} or later"
        return f"go get {pkg.name}@v{fixed.lstrip('v')} && go mod tidy"
    if t == "maven":
        group, _, artifact = pkg.name.partition(":")
        return f"Upgrade {group}:{artifact} to {fixed} in pom.xml / build.gradle"
    if t == "gem":
        return f"bundle update {pkg.name}  # to >= {fixed}"
    if t == "cargo":
        return f"cargo update -p {pkg.name} --precise {fixed}"
    if t == "composer":
        return f"composer require {pkg.name}:^{fixed}"
    if t == "nuget":
        return f"dotnet add package {pkg.name} --version {fixed}"
    return f"Upgrade {pkg.name} to {fixed} or later"
