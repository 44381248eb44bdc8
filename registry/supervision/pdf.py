"""The monthly supervision report (督导月报) of a county, a city or the province, for 报省教育厅: a PDF in the
announcement's style (templates/pdf/supervision_report.html, the proportional CJK faces of pdf/_base.html)
with each indicator's term trend drawn here as SVG, and the same numbers as XLSX (exports.report_xlsx).

Generated on demand and kept in PDF_CACHE_DIR by the digest of its HTML (registry.core.pdf.cache): asking
again for a month whose numbers have not changed returns the kept file; a past month is computed as of its
last day, so it prints the same numbers whenever it is asked for."""
import base64

from registry.core import pdf
from registry.regions.models import RegionLevel
from registry.supervision import indicators

ISSUERS = {RegionLevel.province: "教育厅", RegionLevel.city: "教育局", RegionLevel.county: "教育局"}
CHART_W, CHART_H = 250, 90


def monthly_report(region, month):
    return indicators.monthly_report(region, month)


def trend_svg(points, unit, width=CHART_W, height=CHART_H):
    """A small line chart of a term's month-end values (None values leave a gap), as an SVG document with no
    text: the month labels and values are printed in HTML under it (templates/pdf/supervision_report.html),
    because WeasyPrint lays out and embeds fonts again for the text of every SVG image (seconds per report).
    Returns (svg, ceiling), the ceiling being the value of the top grid line."""
    left, right, top, bottom = 6, 6, 6, 6
    values = [f.value for _label, f in points if f is not None and f.value is not None]
    peak = max(values + [0])
    if unit == "%" and peak <= 100:
        ceiling = 100
    else:   # an even whole number above the peak, so the middle grid line is a whole number too
        ceiling = max(2, int(peak * 1.2) + 1)
        ceiling += ceiling % 2
    plot_w, plot_h = width - left - right, height - top - bottom
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
             f'viewBox="0 0 {width} {height}">', f'<rect x="0" y="0" width="{width}" height="{height}" fill="#fff"/>']
    for i in range(3):
        y = top + plot_h * i / 2
        parts.append(f'<line x1="{left}" y1="{y:.1f}" x2="{width - right}" y2="{y:.1f}" stroke="#ccc" '
                     f'stroke-width="0.6"/>')
    coords = []
    slot = plot_w / max(1, len(points))
    for i, (_label, figure) in enumerate(points):
        if figure is not None and figure.value is not None:
            x = left + slot * (i + 0.5)   # the middle of the i-th of len(points) equal columns
            coords.append((x, top + plot_h * (1 - figure.value / ceiling)))
    if len(coords) > 1:
        parts.append('<polyline fill="none" stroke="#b3261e" stroke-width="1.6" points="'
                     + " ".join(f"{x:.1f},{y:.1f}" for x, y in coords) + '"/>')
    parts += [f'<circle cx="{x:.1f}" cy="{y:.1f}" r="2.2" fill="#b3261e"/>' for x, y in coords]
    parts.append("</svg>")
    return "".join(parts), ceiling


def svg_data_url(svg):
    return "data:image/svg+xml;base64," + base64.b64encode(svg.encode()).decode()


def issuer(region):
    return region.name + ISSUERS[region.level]


def render_report(report):
    """The PDF bytes, kept in PDF_CACHE_DIR under the digest of its HTML."""
    landed = [row for row in report.dashboard.rows if row.indicator.landed]
    charts = []
    for row in landed:
        svg, ceiling = trend_svg(row.trend, row.indicator.unit)
        charts.append((row, svg_data_url(svg), ceiling))
    chart_rows = [charts[i:i + 2] for i in range(0, len(charts), 2)]
    return pdf.render_paged_pdf(
        "supervision_report.html", [None], cache_name=f"supervision-{report.region.id}-{report.month:%Y%m}",
        report=report, chart_rows=chart_rows, issuer=issuer(report.region), level_word=_level_word(report))


def _level_word(report):
    return {"city": "设区市", "county": "县（市、区）", "school": "学校"}[report.dashboard.group]


def report_filename(region, month, ext):
    return f"{region.name}课后服务督导月报-{month:%Y-%m}.{ext}"


def report_response(report, data, region, month):
    return pdf.pdf_response(data, report_filename(region, month, "pdf"))
