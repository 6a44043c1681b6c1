"""Reports: charts drawn on the server as SVG (charts.py, pure); PDFs and practice reports later."""
