// issue 19, pages on phones: label every table cell with its column's header, so that on a narrow screen
// (static/style.css, "tables become stacked cards") each cell shows what it is. A table whose cells already
// carry a data-label keeps it. Loaded with `defer` from templates/base.html (CSP: script-src 'self').
(function () {
  "use strict";
  function label(table) {
    var head = table.tHead;
    if (!head || !head.rows.length) { return; }
    var names = [];
    Array.prototype.forEach.call(head.rows[head.rows.length - 1].cells, function (th) {
      var span = th.colSpan || 1;
      for (var i = 0; i < span; i += 1) { names.push(th.textContent.trim()); }
    });
    Array.prototype.forEach.call(table.tBodies, function (body) {
      Array.prototype.forEach.call(body.rows, function (row) {
        var col = 0;
        Array.prototype.forEach.call(row.cells, function (cell) {
          if (!cell.hasAttribute("data-label") && names[col] !== undefined) {
            cell.setAttribute("data-label", names[col]);
          }
          col += cell.colSpan || 1;
        });
      });
    });
  }
  function run() { Array.prototype.forEach.call(document.querySelectorAll("table.table"), label); }
  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", run); } else { run(); }
}());
