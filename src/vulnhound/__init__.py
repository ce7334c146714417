"""vulnhound: self-hosted continuous vulnerability management (inventory → advisories → matching → findings)."""

__version__ = "0.1.0"
