"""Management reports: daily rollups, period figures, and the CSV, XLSX and PDF files."""
