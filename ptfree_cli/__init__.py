"""ptfree: which function frees a page-table page on x86-64, per configuration."""

__version__ = "0.1.0"
