"""npm ecosystem catalogers: package-lock/shrinkwrap, yarn.lock, pnpm-lock.yaml and installed node_modules."""

from vulnhound.catalogers.npm.installed import NodeModulesCataloger
from vulnhound.catalogers.npm.package_lock import PackageLockCataloger
from vulnhound.catalogers.npm.pnpm_lock import PnpmLockCataloger
from vulnhound.catalogers.npm.yarn_lock import YarnLockCataloger

__all__ = ["NodeModulesCataloger", "PackageLockCataloger", "PnpmLockCataloger", "YarnLockCataloger"]
