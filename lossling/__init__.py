"""lossling: finds numerically unstable and wrong loss code, and rewrites it into the stable forms."""

__version__ = "0.1.0"
