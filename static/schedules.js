// The schedule editor's live check (issue 15): while the school types a row, post it with the saved rows to the
// check endpoint and redraw the 1 : N grid and the problems. Without JavaScript the page re-renders them on save.
(function () {
  "use strict";
  var form = document.getElementById("row-form");
  var panel = document.getElementById("schedule-check");
  if (!form || !panel || !window.fetch) { return; }
  var timer = null;
  var DAYS = ["周一", "周二", "周三", "周四", "周五"];

  function el(tag, cls, text) {
    var node = document.createElement(tag);
    if (cls) { node.className = cls; }
    if (text !== undefined) { node.textContent = text; }
    return node;
  }

  function list(items) {
    var ul = el("ul", "problems");
    items.forEach(function (p) { ul.appendChild(el("li", "", p.message)); });
    return ul;
  }

  function draw(report) {
    panel.textContent = "";
    if (report.grid.length) {
      var wrap = el("div", "table-scroll");
      var table = el("table", "table small grid-1n");
      var head = el("tr");
      head.appendChild(el("th", "", "年级组"));
      DAYS.forEach(function (d) { head.appendChild(el("th", "", d + " 1 : N")); });
      table.appendChild(el("thead")).appendChild(head);
      var body = table.appendChild(el("tbody"));
      report.grid.forEach(function (g) {
        var tr = el("tr");
        tr.appendChild(el("th", "", g.group));
        g.days.forEach(function (d) {
          var bad = d.teaching && (!d.total || report.errors.some(function (p) {
            return p.weekday === d.weekday && p.group === g.group;
          }));
          var text = d.total ? d.one + " : " + d.n + "（N " + Math.round(d.share * 100) + "%）" : (d.teaching ? "未安排" : "无教学日");
          tr.appendChild(el("td", d.teaching ? (bad ? "bad" : "ok") : "muted", text));
        });
        body.appendChild(tr);
      });
      wrap.appendChild(table);
      panel.appendChild(wrap);
    }
    var fieldErrors = Object.keys(report.field_errors || {});
    if (fieldErrors.length) {
      var f = el("div", "flash flash-warning", "这一行还没填完整：");
      f.appendChild(list(fieldErrors.map(function (k) { return { message: report.field_errors[k].join("；") }; })));
      panel.appendChild(f);
    }
    if (report.errors.length) {
      var e = el("div", "flash flash-error", report.errors.length + " 处不符合政策，修改后才能报备：");
      e.setAttribute("role", "alert");
      e.appendChild(list(report.errors));
      panel.appendChild(e);
    } else if (report.grid.length) {
      panel.appendChild(el("div", "flash flash-success", "符合本市课后服务政策，可以报备。"));
    }
    if (report.warnings.length) {
      var w = el("div", "flash flash-warning");
      w.appendChild(list(report.warnings));
      panel.appendChild(w);
    }
  }

  function check() {
    fetch(form.getAttribute("data-check-url"), {
      method: "POST", body: new FormData(form), credentials: "same-origin",
      headers: { "Accept": "application/json" }
    }).then(function (r) { return r.ok ? r.json() : null; }).then(function (report) {
      if (report) { draw(report); }
    }).catch(function () { /* the page still checks on save */ });
  }

  function later() {
    if (timer) { clearTimeout(timer); }
    timer = setTimeout(check, 400);
  }
  form.addEventListener("input", later);
  form.addEventListener("change", later);
}());
