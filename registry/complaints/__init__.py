"""Complaints (投诉) with working-day deadlines, and appeals (申诉/复核) against decisions (issue 17)."""
