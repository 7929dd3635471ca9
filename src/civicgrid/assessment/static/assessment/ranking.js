// The ranking as a bar chart (Apache ECharts, served locally): the table below it holds the same
// numbers, and the Excel export the rest. Without ECharts the page shows the table only.
(function () {
  "use strict";
  var node = document.getElementById("ranking-chart");
  var data = document.getElementById("ranking-data");
  if (!node || !data || typeof window.echarts === "undefined") { return; }
  var rows = JSON.parse(data.textContent);
  if (!rows.length) { node.hidden = true; return; }
  node.style.height = Math.max(160, 28 * rows.length + 60) + "px";
  var chart = window.echarts.init(node);
  chart.setOption({
    grid: { left: 140, right: 40, top: 10, bottom: 30 },
    tooltip: { trigger: "axis", axisPointer: { type: "shadow" } },
    xAxis: { type: "value", min: 0, max: 100 },
    yAxis: { type: "category", inverse: true, data: rows.map(function (r) { return r.label; }) },
    series: [{ type: "bar", data: rows.map(function (r) { return r.final; }),
               label: { show: true, position: "right", formatter: function (p) {
                 return p.value === null ? "—" : p.value.toFixed(1) + " " + rows[p.dataIndex].grade; } } }]
  });
  window.addEventListener("resize", function () { chart.resize(); });
})();
