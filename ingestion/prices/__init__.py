"""Offer prices from open price feeds: statements, matching to our offers, resolution, history and verification."""
