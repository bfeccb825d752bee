"""evidence-cli: check that cited studies are real, correctly cited, still standing."""

__version__ = "0.1.0"
PROJECT_URL = "https://github.com/evidence-cli/evidence-cli"
