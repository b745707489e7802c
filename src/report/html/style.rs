//! The page's stylesheet, inlined into its `<head>`: the report opens offline, so nothing is
//! fetched. Print rules keep it readable on paper and in grey.

pub(super) const STYLE: &str = r#"
:root {
  --ink: #1f2933; --muted: #5b6776; --line: #dde3ea; --soft: #f4f6f9;
  --error: #b42318; --error-bg: #fdeceb; --warn: #8a5100; --warn-edge: #e0a100;
  --warn-bg: #fff5d6; --ok: #17603a; --ok-bg: #e7f5ec;
  --bar: #7fa9dc; --persons: #1c3d6e;
}
* { box-sizing: border-box; }
body {
  margin: 0; background: #fff; color: var(--ink);
  font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial,
    "Liberation Sans", sans-serif;
}
main { max-width: 1168px; margin: 0 auto; padding: 28px 24px 48px; }
h1 { font-size: 28px; line-height: 1.2; margin: 2px 0 14px; }
h1 .year { color: var(--muted); font-weight: 400; }
h2 {
  font-size: 20px; margin: 40px 0 12px; padding-bottom: 6px;
  border-bottom: 2px solid var(--line);
}
h3 { font-size: 16px; margin: 22px 0 6px; }
p { margin: 6px 0; max-width: 80ch; }
code { font-family: ui-monospace, Consolas, "DejaVu Sans Mono", monospace; font-size: 0.92em; }
a { color: #1d4f91; }
.kicker {
  margin: 0; color: var(--muted); font-size: 13px; font-weight: 600;
  letter-spacing: 0.06em; text-transform: uppercase;
}
.meta { display: flex; flex-wrap: wrap; gap: 8px 36px; margin: 0 0 16px; }
.meta dt { color: var(--muted); font-size: 12px; text-transform: uppercase; letter-spacing: 0.04em; }
.meta dd { margin: 0; font-weight: 600; }
.status { max-width: none; padding: 12px 16px; border-left: 6px solid; border-radius: 4px; }
.status.error { background: var(--error-bg); border-color: var(--error); }
.status.ok { background: var(--ok-bg); border-color: var(--ok); }
.status.warning { background: var(--warn-bg); border-color: var(--warn-edge); }
nav { margin: 14px 0 0; font-size: 14px; }
nav a { margin-right: 18px; }
table { border-collapse: collapse; margin: 10px 0 14px; }
caption { text-align: left; font-weight: 600; padding: 4px 0 6px; }
th, td { text-align: left; vertical-align: top; padding: 6px 12px; border-bottom: 1px solid var(--line); }
thead th {
  color: var(--muted); font-size: 12px; font-weight: 600; text-transform: uppercase;
  letter-spacing: 0.04em; border-bottom: 2px solid var(--line); white-space: nowrap;
}
tbody th { font-weight: 600; }
.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
.origin { color: var(--muted); word-break: break-all; }
td.problems { color: var(--warn); font-weight: 700; }
.note { color: var(--muted); font-size: 14px; }
.none { color: var(--muted); font-style: italic; }
#summary { min-width: 420px; }
#summary .total th, #summary .total td { font-size: 16px; }
#summary tr.error td.num { color: var(--error); font-weight: 700; }
#summary tr.warning td.num { color: var(--warn); font-weight: 700; }
#summary tbody.rules { border-top: 2px solid var(--line); }
.sev {
  display: inline-block; padding: 0 8px; border: 1px solid; border-radius: 10px;
  font-size: 12px; font-weight: 700; line-height: 18px; white-space: nowrap;
}
.sev.error { color: var(--error); background: var(--error-bg); }
.sev.warning { color: var(--warn); background: var(--warn-bg); border-color: var(--warn-edge); }
.legend { font-size: 14px; color: var(--muted); }
.legend svg { vertical-align: -1px; margin: 0 4px 0 10px; }
.legend svg:first-child { margin-left: 0; }
#chart { display: block; max-width: 100%; height: auto; margin: 6px 0 10px; }
#chart .panel { fill: #fff; stroke: var(--line); }
#chart .title { font-size: 12px; fill: var(--ink); }
#chart .title .code { font-weight: 700; }
#chart .axis { font-size: 10.5px; fill: var(--muted); }
#chart .grid { stroke: #e8ecf1; stroke-width: 1; }
#chart .baseline { stroke: #9aa5b1; stroke-width: 1; }
#chart .hit { fill: transparent; }
#chart .month:hover .hit { fill: #eef3fa; }
.bar { fill: var(--bar); }
.persons { fill: none; stroke: var(--persons); stroke-width: 2; stroke-linejoin: round; }
.dot { fill: #fff; stroke: var(--persons); stroke-width: 1.6; }
table.figures { font-size: 12.5px; }
.wide { overflow-x: auto; }
table.figures th, table.figures td { padding: 3px 7px; }
table.figures thead th { font-size: 11px; }
table.figures .kind { font-weight: 400; color: var(--muted); }
table.figures tbody { border-bottom: 2px solid var(--line); }
.finding { margin: 24px 0; padding: 2px 0 2px 18px; border-left: 5px solid; }
.finding.error { border-color: var(--error); }
.finding.warning { border-color: var(--warn-edge); }
.finding h3 { margin-top: 0; }
.finding h3 code { font-size: 17px; margin-right: 6px; }
.count { color: var(--muted); font-size: 14px; font-weight: 400; margin-left: 6px; }
.fix { background: var(--soft); padding: 8px 12px; border-radius: 4px; }
table.examples { font-size: 14px; }
table.examples th, table.examples td { padding: 4px 12px; }
table.mapping { width: 100%; max-width: 760px; }
table.mapping td:first-child { width: 34%; }
tr.unmapped td { background: var(--error-bg); }
footer { margin-top: 48px; padding-top: 12px; border-top: 1px solid var(--line); color: var(--muted); font-size: 13px; }
@media print {
  @page { margin: 14mm 12mm; }
  * { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
  body { font-size: 10pt; }
  main { max-width: none; padding: 0; }
  nav { display: none; }
  a { color: inherit; text-decoration: none; }
  h2 { margin-top: 22px; break-after: avoid; }
  h3 { break-after: avoid; }
  tr, .status, #chart, .legend { break-inside: avoid; }
  .finding > p { break-inside: avoid; }
  .wide { overflow: visible; }
  table.figures { width: 100%; font-size: 7.5pt; }
  table.figures th, table.figures td { padding: 2px 3px; }
  table.figures thead th { font-size: 7pt; }
  #chart .month:hover .hit { fill: transparent; }
}
"#;
