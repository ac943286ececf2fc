"""Import and export of reports in the exchange formats."""
