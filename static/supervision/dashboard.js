/* Supervision dashboard charts (issue 18). The page carries its numbers in
   <script type="application/json" id="dashboard-data"> (the CSP allows no inline script); this file draws
   each indicator's term trend with Apache ECharts (static/vendor/echarts, from npm). Every chart also has a
   table view on the page and the XLSX export. */
(function () {
  "use strict";
  var node = document.getElementById("dashboard-data");
  if (!node || typeof echarts === "undefined") { return; }
  var data = JSON.parse(node.textContent);
  var byKey = {};
  data.indicators.forEach(function (ind) { byKey[ind.key] = ind; });
  var charts = [];
  document.querySelectorAll(".chart[data-key]").forEach(function (el) {
    var ind = byKey[el.getAttribute("data-key")];
    if (!ind || !ind.landed) { return; }
    var percent = ind.unit === "%";
    var chart = echarts.init(el, null, { renderer: "canvas" });
    chart.setOption({
      animation: false,
      grid: { left: 44, right: 28, top: 24, bottom: 28 },
      tooltip: { trigger: "axis", valueFormatter: function (v) { return v == null ? "—" : v + (percent ? "%" : " " + ind.unit); } },
      xAxis: { type: "category", data: ind.trend.map(function (p) { return p.month; }), boundaryGap: true },
      yAxis: { type: "value", min: 0, max: percent ? 100 : null, minInterval: percent ? 0 : 1,
               axisLabel: { formatter: percent ? "{value}%" : "{value}" } },
      series: [{
        type: percent ? "line" : "bar", name: ind.label, color: "#b3261e", barMaxWidth: 28,
        label: { show: true, position: "top", formatter: function (p) { return p.value == null ? "" : p.value; } },
        data: ind.trend.map(function (p) { return p.figure ? p.figure.value : null; })
      }]
    });
    charts.push(chart);
  });
  window.addEventListener("resize", function () { charts.forEach(function (c) { c.resize(); }); });
}());
