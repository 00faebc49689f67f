"""The answers services give each other over HTTP, declared once for both sides."""
