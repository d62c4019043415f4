"""The style sheet of the plan report, for the screen and for printing to PDF."""

CSS = """
:root {
  --ink: #1a202c; --muted: #5a6778; --line: #e2e8f0; --head: #f4f6f9;
  --accent: #2b6cb0; --good: #276749; --good-bg: #e6f6ec; --bad: #b7471b; --bad-bg: #fdebdd;
}
* { box-sizing: border-box; -webkit-print-color-adjust: exact; print-color-adjust: exact; }
html { background: #ffffff; }
body {
  margin: 0 auto; max-width: 1180px; padding: 28px 36px 48px; color: var(--ink);
  background: #ffffff; font: 13px/1.45 "Segoe UI", "Helvetica Neue", Helvetica, Arial,
  "Liberation Sans", "DejaVu Sans", sans-serif;
}
header { border-bottom: 3px solid var(--accent); padding-bottom: 12px; margin-bottom: 20px; }
h1 { font-size: 26px; margin: 0 0 4px; letter-spacing: -0.01em; }
h2 {
  font-size: 18px; margin: 34px 0 10px; padding-bottom: 4px; border-bottom: 1px solid var(--line);
}
h3 { font-size: 14px; margin: 20px 0 6px; }
p { margin: 6px 0; }
.subtitle { color: var(--muted); margin: 0; }
.note { color: var(--muted); font-size: 12px; }
.cards { display: grid; grid-template-columns: repeat(auto-fit, minmax(170px, 1fr)); gap: 12px; }
.card { border: 1px solid var(--line); border-left: 4px solid var(--accent); padding: 10px 12px; }
.card .label { color: var(--muted); font-size: 11px; text-transform: uppercase;
  letter-spacing: 0.04em; }
.card .value { font-size: 22px; font-weight: 600; margin-top: 2px; }
.card .detail { color: var(--muted); font-size: 12px; }
table { border-collapse: collapse; width: 100%; margin: 8px 0 4px; font-size: 12px; }
th, td { border-bottom: 1px solid var(--line); padding: 4px 8px; text-align: left;
  vertical-align: top; }
thead th { background: var(--head); font-weight: 600; border-bottom: 1px solid #cbd5e0; }
tbody tr:nth-child(even) td { background: #fafbfc; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
td.text { min-width: 260px; }
.badge { display: inline-block; padding: 1px 7px; border-radius: 9px; font-size: 11px;
  font-weight: 600; white-space: nowrap; }
.badge.good { color: var(--good); background: var(--good-bg); }
.badge.bad { color: var(--bad); background: var(--bad-bg); }
.dev-bad { color: var(--bad); font-weight: 600; }
.matrix td, .matrix th { text-align: right; padding: 3px 6px; font-variant-numeric: tabular-nums; }
.matrix th.corner { text-align: left; color: var(--muted); font-weight: normal; }
.matrix tbody th { background: var(--head); }
.matrix td.stay { background: #edf0f3 !important; color: var(--muted); }
.matrix td.zero { color: #b4bcc6; }
.matrix tr.total td, .matrix td.total { font-weight: 600; background: #ffffff !important; }
figure { margin: 10px 0 18px; }
figure svg { width: 100%; height: auto; display: block; }
figcaption { margin-bottom: 4px; }
.legend-swatch { display: inline-block; width: 10px; height: 10px; border-radius: 5px;
  margin-right: 5px; vertical-align: -1px; }
footer { margin-top: 36px; padding-top: 10px; border-top: 1px solid var(--line);
  color: var(--muted); font-size: 11px; }
@page { size: A4; margin: 12mm; }
@media print {
  body { max-width: none; padding: 0; font-size: 10pt; }
  h2 { margin-top: 18px; }
  section.page { break-before: page; }
  .cards { grid-template-columns: repeat(5, 1fr); }
  figure, .cards, tr { break-inside: avoid; }
  thead { display: table-header-group; }
  table { font-size: 9pt; }
}
"""
