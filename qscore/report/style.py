"""The report's style sheet: readable on screen, printable on A4 (figures kept whole, colours kept)."""

CSS = """
:root {
  --ink: #1d2430; --muted: #5b6677; --line: #d8dee8; --panel: #f5f7fa;
  --below: #c62828; --below-bg: #fdecea; --typical: #2e7d32; --typical-bg: #e8f5e9;
  --above: #b26a00; --above-bg: #fff4e0; --accent: #1f5fa8;
}
* { box-sizing: border-box; }
html { font-size: 15px; }
body {
  margin: 0; color: var(--ink); background: #fff; line-height: 1.45;
  font-family: system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif;
}
main { max-width: 1180px; margin: 0 auto; padding: 0 28px 48px; }
header.top { background: #203047; color: #fff; padding: 22px 28px 18px; }
header.top .inner { max-width: 1180px; margin: 0 auto; }
header.top h1 { margin: 0 0 4px; font-size: 1.6rem; font-weight: 600; }
header.top p { margin: 0; color: #c9d3e3; }
h2 { font-size: 1.3rem; margin: 34px 0 10px; padding-bottom: 4px; border-bottom: 2px solid var(--line); }
h3 { font-size: 1.05rem; margin: 22px 0 6px; }
p { margin: 6px 0 10px; }
.muted, figcaption, caption { color: var(--muted); font-size: 0.9rem; }
caption { text-align: left; padding: 4px 0; caption-side: bottom; }
nav.toc { margin: 14px 0 0; font-size: 0.92rem; }
nav.toc a { color: var(--accent); text-decoration: none; margin-right: 14px; white-space: nowrap; }
.cards { display: grid; grid-template-columns: repeat(auto-fill, minmax(200px, 1fr)); gap: 12px; margin: 18px 0 8px; }
.card { border: 1px solid var(--line); border-radius: 8px; padding: 10px 14px; background: var(--panel); }
.card .label { font-size: 0.82rem; color: var(--muted); text-transform: none; }
.card .value { font-size: 1.55rem; font-weight: 600; font-variant-numeric: tabular-nums; }
.card .sub { font-size: 0.82rem; color: var(--muted); }
.verdict { border-radius: 8px; padding: 10px 14px; margin: 10px 0; border-left: 5px solid; }
.verdict.below { background: var(--below-bg); border-color: var(--below); }
.verdict.typical { background: var(--typical-bg); border-color: var(--typical); }
.verdict.above { background: var(--above-bg); border-color: var(--above); }
.verdict.none { background: var(--panel); border-color: var(--line); }
.tag { display: inline-block; border-radius: 10px; padding: 0 8px; font-size: 0.82rem; white-space: nowrap; }
.tag.below { background: var(--below-bg); color: var(--below); }
.tag.typical { background: var(--typical-bg); color: var(--typical); }
.tag.above { background: var(--above-bg); color: var(--above); }
table { border-collapse: collapse; margin: 8px 0 14px; font-size: 0.9rem; font-variant-numeric: tabular-nums; }
th, td { padding: 4px 10px; border-bottom: 1px solid var(--line); text-align: left; vertical-align: top; }
thead th { background: var(--panel); font-weight: 600; border-bottom: 2px solid var(--line); }
td.r, th.r { text-align: right; }
table.kv th { font-weight: 500; color: var(--muted); width: 16em; background: none; }
table.kv td { word-break: break-word; }
code, .hash { font-family: ui-monospace, "SFMono-Regular", Menlo, Consolas, monospace; font-size: 0.85rem; }
.hash { word-break: break-all; }
.atoms span { margin-right: 8px; white-space: nowrap; }
.nowrap { white-space: nowrap; }
.atoms .low { color: var(--below); font-weight: 600; }
figure.plot-box { margin: 10px 0 18px; }
.plot { width: 100%; min-height: 300px; }
.notes li { margin: 3px 0; }
.read h3 { margin-top: 14px; }
.twocol { display: grid; grid-template-columns: 1fr 1fr; gap: 20px; }
footer { color: var(--muted); font-size: 0.85rem; border-top: 1px solid var(--line); margin-top: 40px; padding-top: 10px; }
@media (max-width: 800px) { .twocol { grid-template-columns: 1fr; } }
@page { size: A4; margin: 14mm 12mm; }
@media print {
  html { font-size: 11pt; }
  header.top { background: none; color: var(--ink); padding: 0 0 8px; border-bottom: 2px solid var(--ink); }
  header.top p { color: var(--muted); }
  main { max-width: none; padding: 0; }
  nav.toc, .modebar-container { display: none !important; }
  h2 { break-after: avoid; }
  h3 { break-after: avoid; }
  figure.plot-box, .cards, .verdict, tr { break-inside: avoid; }
  .card, .verdict, thead th { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
  .twocol { grid-template-columns: 1fr; }
  a { color: inherit; text-decoration: none; }
}
"""
