"""Files the services ship: the fonts the committee PDF embeds and the report page shows."""

from __future__ import annotations

from pathlib import Path

# Noto Sans Thai and Noto Sans (OFL, see fonts/OFL.txt), unmodified.
FONTS = Path(__file__).parent / "fonts"
