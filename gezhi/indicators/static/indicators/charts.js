/* Indicator charts (Apache ECharts, vendored): rates by unit as bars, the monthly trend as
   reported counts with rate lines. Data and labels come from the page (json_script), already
   in the page's language; the ranking table below holds the same numbers. */
(function () {
  "use strict";

  function percentAxis(name) {
    return { type: "value", name: name, min: 0, max: 100, axisLabel: { formatter: "{value}%" } };
  }

  function percent(v) { return v == null ? "—" : v + "%"; }

  // Phones: axis names would collide with the legend; long unit names are turned and cut.
  function bars(el, data) {
    var narrow = el.clientWidth < 420;
    var turned = narrow || data.units.length > 6;
    var shown = narrow ? 8 : 20;
    var zoom = data.units.length > shown;
    return {
      tooltip: { trigger: "axis", valueFormatter: percent },
      legend: { top: 0 },
      grid: { left: 8, right: 8, top: narrow ? 56 : 40, bottom: zoom ? 30 : 8, containLabel: true },
      xAxis: { type: "category", data: data.units,
               axisLabel: { interval: 0, rotate: turned ? 45 : 0, width: 84, overflow: "truncate" } },
      yAxis: percentAxis(narrow ? "" : data.percent),
      dataZoom: zoom ? [{ type: "slider", start: 0, end: 100 * shown / data.units.length, height: 14, bottom: 4 },
                        { type: "inside" }] : [],
      series: data.bars.map(function (s) { return { name: s.name, type: "bar", data: s.data }; })
    };
  }

  function trend(el, data) {
    var narrow = el.clientWidth < 420;
    return {
      tooltip: { trigger: "axis" },
      legend: { top: 0 },
      grid: { left: 8, right: 8, top: narrow ? 56 : 40, bottom: 8, containLabel: true },
      xAxis: { type: "category", data: data.months },
      yAxis: [{ type: "value", name: narrow ? "" : data.count, minInterval: 1 },
              percentAxis(narrow ? "" : data.percent)],
      series: [{ name: data.reported.name, type: "bar", data: data.reported.data, itemStyle: { opacity: 0.45 } }].concat(
        data.lines.map(function (s) {
          return { name: s.name, type: "line", yAxisIndex: 1, data: s.data, connectNulls: true,
                   tooltip: { valueFormatter: percent } };
        }))
    };
  }

  function draw() {
    var source = document.getElementById("indicator-chart-data");
    if (!source || typeof echarts === "undefined") { return; }
    var data = JSON.parse(source.textContent);
    var charts = [];
    document.querySelectorAll("[data-indicator-chart]").forEach(function (el) {
      var kind = el.getAttribute("data-indicator-chart");
      var empty = kind === "bars" ? data.units.length === 0 : data.months.length === 0;
      var chart = echarts.init(el, null, { renderer: "svg" });
      chart.setOption(empty ? { title: { text: data.empty, left: "center", top: "middle", textStyle: { color: "#6b7785", fontSize: 14 } } }
                            : (kind === "bars" ? bars(el, data) : trend(el, data)));
      charts.push(chart);
    });
    window.addEventListener("resize", function () { charts.forEach(function (c) { c.resize(); }); });
  }

  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", draw); } else { draw(); }
})();
