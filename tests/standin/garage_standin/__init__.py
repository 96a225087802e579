"""Garage stand-in: a small, standard-library-only server that speaks Garage's
Admin API v2 and the S3 subset the collection uses, with Garage's semantics.

Test and demo infrastructure only, never a product feature. See README.md
in this directory for how it maps to ``garage-facts.md``.
"""

__version__ = "0.1.0"
# The Garage version the stand-in imitates (reported by GetNodeInfo/GetClusterStatus).
GARAGE_VERSION = "v2.0.0-standin"
