"""Python catalogers: installed distributions and the lock/manifest files (requirements, poetry, pipenv, uv, pylock)."""

from vulnhound.catalogers.python.installed import PythonInstalledCataloger
from vulnhound.catalogers.python.pipfile import PipfileLockCataloger
from vulnhound.catalogers.python.poetry import PoetryLockCataloger
from vulnhound.catalogers.python.pylock import PylockCataloger
from vulnhound.catalogers.python.requirements import RequirementsCataloger
from vulnhound.catalogers.python.uv import UvLockCataloger

__all__ = ["PipfileLockCataloger", "PoetryLockCataloger", "PylockCataloger", "PythonInstalledCataloger",
           "RequirementsCataloger", "UvLockCataloger"]
